using System.Text;

namespace CheckoutService.Addresses;

/// <summary>Text as Publication 28 writes it: upper case, words split on whitespace and punctuation, single spaces.</summary>
public static class UspsText
{
    /// <summary>
    /// The words of <paramref name="text"/>, upper-cased. Periods and commas go (<c>St.</c> → <c>ST</c>);
    /// hyphens and slashes stay (<c>123-45</c>, <c>1/2</c>); <c>#</c> becomes a word of its own when kept.
    /// </summary>
    public static List<string> Split(string? text, bool keepHash = true)
    {
        var words = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return words;
        }
        var word = new StringBuilder();
        foreach (var c in text.Normalize(NormalizationForm.FormC))
        {
            if (char.IsWhiteSpace(c) || c is '.' or ',' or ';' || (c == '#' && !keepHash))
            {
                Flush(words, word);
            }
            else if (c == '#')
            {
                Flush(words, word);
                words.Add("#");
            }
            else
            {
                word.Append(char.ToUpperInvariant(c));
            }
        }
        Flush(words, word);
        return words;
    }

    /// <summary>The words joined with single spaces.</summary>
    public static string Words(string? text, bool keepHash = true) => string.Join(' ', Split(text, keepHash));

    /// <summary>Whitespace only: trimmed, runs of whitespace as one space, case kept (for countries Publication 28 does not cover).</summary>
    public static string Collapse(string? text) =>
        string.IsNullOrWhiteSpace(text) ? "" : string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static void Flush(List<string> words, StringBuilder word)
    {
        if (word.Length > 0)
        {
            words.Add(word.ToString());
            word.Clear();
        }
    }
}
