using System.Security.Cryptography;
using CheckoutService.Edge;
using Microsoft.AspNetCore.WebUtilities;

namespace CheckoutService.Sessions;

/// <summary>
/// Session ids and their bearer tokens. A token is <c>gst_{session uuid}_{256 random bits}</c>:
/// the uuid finds the session, the random part proves the holder started it. Only the token's
/// SHA-256 is stored and it is compared in constant time.
/// </summary>
public static class SessionTokens
{
    private const string Prefix = "gst_";

    public static string NewSessionId() => GuestSession.KeyPrefix + Guid.NewGuid().ToString("D");

    /// <summary>Accepts <c>guest:sess:{uuid}</c> or the bare uuid; anything else is no session.</summary>
    public static string? NormalizeSessionId(string? raw)
    {
        var uuid = raw is not null && raw.StartsWith(GuestSession.KeyPrefix, StringComparison.Ordinal) ? raw[GuestSession.KeyPrefix.Length..] : raw;
        return Guid.TryParseExact(uuid, "D", out var id) ? GuestSession.KeyPrefix + id.ToString("D") : null;
    }

    public static (string Token, byte[] Hash) Issue(string sessionId)
    {
        var uuid = Guid.ParseExact(sessionId[GuestSession.KeyPrefix.Length..], "D").ToString("N");
        var token = $"{Prefix}{uuid}_{WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32))}";
        return (token, Sha256.Of(token));
    }

    /// <summary>The session a token claims to open, before it is checked against the stored hash.</summary>
    public static string? SessionIdOf(string? token)
    {
        if (token is null || !token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length < Prefix.Length + 33 || token[Prefix.Length + 32] != '_')
        {
            return null;
        }
        return Guid.TryParseExact(token.AsSpan(Prefix.Length, 32), "N", out var id) ? GuestSession.KeyPrefix + id.ToString("D") : null;
    }

    public static bool Matches(string token, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Sha256.Of(token), storedHash);
}
