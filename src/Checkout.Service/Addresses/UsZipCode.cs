using System.Globalization;

namespace CheckoutService.Addresses;

/// <summary>US ZIP codes as shoppers write them: 5 digits, or ZIP+4 with a hyphen, a space or nothing between.</summary>
public static class UsZipCode
{
    /// <summary>Reads a ZIP code without allocating; <paramref name="plus4"/> is -1 when there is none.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out int zip5, out int plus4)
    {
        zip5 = 0;
        plus4 = -1;
        text = text.Trim();
        if (text.Length is not (5 or 9 or 10) || !AllDigits(text[..5]))
        {
            return false;
        }
        zip5 = int.Parse(text[..5], NumberStyles.None, CultureInfo.InvariantCulture);
        if (text.Length == 5)
        {
            return true;
        }
        var four = text.Length == 9 ? text[5..] : text[6..];
        if ((text.Length == 10 && text[5] is not ('-' or ' ')) || !AllDigits(four))
        {
            return false;
        }
        plus4 = int.Parse(four, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>The USPS form: <c>62704</c> or <c>62704-1234</c>.</summary>
    public static string Format(int zip5, int plus4) =>
        plus4 < 0
            ? zip5.ToString("D5", CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{zip5:D5}-{plus4:D4}");

    private static bool AllDigits(ReadOnlySpan<char> text) => !text.ContainsAnyExceptInRange('0', '9');
}
