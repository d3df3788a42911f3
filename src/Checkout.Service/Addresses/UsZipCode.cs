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
        zip5 = Digits(text[..5]);
        if (text.Length == 5)
        {
            return true;
        }
        var four = text.Length == 9 ? text[5..] : text[6..];
        if ((text.Length == 10 && text[5] is not ('-' or ' ')) || !AllDigits(four))
        {
            return false;
        }
        plus4 = Digits(four);
        return true;
    }

    /// <summary>The USPS form: <c>62704</c> or <c>62704-1234</c>.</summary>
    public static string Format(int zip5, int plus4) =>
        plus4 < 0
            ? zip5.ToString("D5", CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{zip5:D5}-{plus4:D4}");

    // Loops by hand: span.ContainsAnyExceptInRange('0', '9') allocated 96 bytes a call here (measured by
    // AddressDataUnitTests.Lookups_AfterWarmUp_AllocateNothing), and a look-up must allocate nothing.
    private static bool AllDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    private static int Digits(ReadOnlySpan<char> digits)
    {
        var value = 0;
        foreach (var c in digits)
        {
            value = (value * 10) + (c - '0');
        }
        return value;
    }
}
