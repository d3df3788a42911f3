using System.Text;

namespace CheckoutService.Edge;

/// <summary>
/// One email however it is typed: the Kelvin sign, full-width letters and other compatibility forms,
/// letter case and surrounding spaces all compare equal. Orders, accounts and sign-in compare by
/// <see cref="Key"/>; what the shopper typed is kept as typed.
/// </summary>
public static class EmailAddress
{
    /// <summary>Unicode NFKC, then a case fold (and NFKC again, as lower-casing can undo it).</summary>
    public static string Key(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
        var trimmed = email.Trim();
        try
        {
            return trimmed.Normalize(NormalizationForm.FormKC).ToLowerInvariant().Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            return trimmed.ToLowerInvariant(); // not well-formed Unicode (a lone surrogate): it matches only itself
        }
    }
}
