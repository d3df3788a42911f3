using System.Security.Cryptography;
using System.Text;

namespace CheckoutService.Edge;

/// <summary>SHA-256 of text: how bearer secrets are kept at rest, and how keys are derived from what they name.</summary>
public static class Sha256
{
    public static byte[] Of(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    /// <summary>Lowercase hex.</summary>
    public static string Hex(string text) => Convert.ToHexStringLower(Of(text));

    /// <summary>
    /// An email as events carry it: the hash of its canonical form (<see cref="EmailAddress.Key"/>),
    /// which analytics joins on without holding the address itself (docs/decisions/0010).
    /// </summary>
    public static string OfEmail(string email) => Hex(EmailAddress.Key(email));
}
