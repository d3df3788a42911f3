using System.Text;
using CheckoutService.Edge;
using Zxcvbn.Matcher;

namespace CheckoutService.Accounts;

/// <summary>
/// What a password must be, as NIST SP 800-63B §5.1.1.2 asks: 12 to 128 characters counted as
/// Unicode code points (an emoji is one), not only spaces or control characters, and not easy to
/// guess: zxcvbn (Dropbox's estimator, with its dictionaries of common passwords, names and words,
/// and the shopper's own email) must rate it 3 of 4 or better. No rules about character classes.
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 12;
    public const int MaxLength = 128;

    /// <summary>zxcvbn's "safely unguessable": about 10^8 guesses or more.</summary>
    public const int MinScore = 3;

    /// <summary>zxcvbn's matching grows with length; its authors judge the first 100 characters, and so do we.</summary>
    private const int JudgedLength = 100;

    public static FieldError? Check(string? password, string email)
    {
        if (string.IsNullOrEmpty(password))
        {
            return new("password", FieldCodes.Required, "Password is required", Constraint);
        }
        var runes = password.EnumerateRunes().ToList();
        if (runes.Count < MinLength)
        {
            return new("password", FieldCodes.TooShort, "Password is too short", $"At least {MinLength} characters");
        }
        if (runes.Count > MaxLength)
        {
            return new("password", FieldCodes.TooLong, "Password is too long", $"At most {MaxLength} characters");
        }
        if (runes.All(r => Rune.IsWhiteSpace(r) || Rune.IsControl(r)))
        {
            return TooWeak("it is only spaces or invisible characters");
        }
        var judged = runes.Count <= JudgedLength ? password : string.Concat(runes.Take(JudgedLength));
        var result = Zxcvbn.Zxcvbn.MatchPassword(judged, [email, .. email.Split('@', '.', '+', '_', '-')]);
        return result.Score >= MinScore ? null : TooWeak(Why(result));
    }

    private const string Constraint = "12-128 characters, not a common password or an easy pattern";

    private static FieldError TooWeak(string why) =>
        new("password", FieldCodes.PasswordTooWeak, $"This password is too easy to guess: {why}. Try a few unrelated words.", Constraint);

    /// <summary>The weakest part of the password, in the shopper's words.</summary>
    private static string Why(Zxcvbn.Result result) =>
        result.MatchSequence.Where(m => m.Pattern != "bruteforce").OrderBy(m => m.Entropy).FirstOrDefault() switch
        {
            DictionaryMatch { DictionaryName: "user_inputs" } => "it contains your email address",
            DictionaryMatch { DictionaryName: "passwords" } => "it is, or contains, a commonly used password",
            DictionaryMatch => "it is made of common words or names",
            { Pattern: "repeat" } => "it repeats the same characters",
            { Pattern: "sequence" } => "it is a sequence like abc or 1234",
            { Pattern: "spatial" } => "it is a pattern of keys next to each other",
            { Pattern: "date" or "year" } => "it is mostly a date or a year",
            _ => "it is too short for what it is made of",
        };
}
