using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace CheckoutService.Accounts;

/// <summary>
/// The verification code as the <c>account.email_verification</c> event carries it to the mailer:
/// AES-256-GCM under <c>EMAIL_EVENT_KEY</c>, bound to the account it was made for. The event's
/// <c>sealed_code</c> is base64url of nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes), with the
/// account id as associated data; the mailer opens it with the same key (README, "Events").
/// </summary>
public sealed class SealedCode
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SealedCode(IOptions<CheckoutSettings> settings, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        _key = KeyOf(settings.Value.EmailEventKey) ?? (environment.IsDevelopment()
            ? RandomNumberGenerator.GetBytes(32) // a development host's events are read by nobody else
            : throw new InvalidOperationException("EMAIL_EVENT_KEY is not set"));
    }

    /// <summary>The setting's key, or null when it is not set; a malformed one is refused at start-up (<see cref="IsValidKey"/>).</summary>
    private static byte[]? KeyOf(string? setting) => string.IsNullOrEmpty(setting) ? null : Convert.FromBase64String(setting);

    public static bool IsValidKey(string? setting)
    {
        if (string.IsNullOrEmpty(setting))
        {
            return true;
        }
        var bytes = new byte[64];
        return Convert.TryFromBase64String(setting, bytes, out var length) && length == 32;
    }

    public string Seal(string code, string accountId)
    {
        var sealedBytes = new byte[NonceSize + Encoding.UTF8.GetByteCount(code) + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, Encoding.UTF8.GetBytes(code), sealedBytes.AsSpan(NonceSize, sealedBytes.Length - NonceSize - TagSize),
            sealedBytes.AsSpan(sealedBytes.Length - TagSize), Encoding.UTF8.GetBytes(accountId));
        return WebEncoders.Base64UrlEncode(sealedBytes);
    }

    /// <summary>What the mailer does: the code, or a <see cref="CryptographicException"/> for another key or another account.</summary>
    public string Open(string sealedCode, string accountId)
    {
        ArgumentNullException.ThrowIfNull(sealedCode);
        var sealedBytes = WebEncoders.Base64UrlDecode(sealedCode);
        var plain = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, plain.Length), sealedBytes.AsSpan(sealedBytes.Length - TagSize), plain,
            Encoding.UTF8.GetBytes(accountId));
        return Encoding.UTF8.GetString(plain);
    }
}
