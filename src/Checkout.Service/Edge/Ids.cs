using System.Security.Cryptography;

namespace CheckoutService.Edge;

/// <summary>Public ids and bearer secrets, all from the OS CSPRNG.</summary>
public static class Ids
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public static string Cart() => "cart_" + RandomNumberGenerator.GetString(Alphabet, 12);

    public static string Order() => "ord_" + RandomNumberGenerator.GetString(Alphabet, 12);

    /// <summary>26 characters of 36: 134 bits, past the 128 a bearer secret needs (ASVS 3.2.2).</summary>
    public static string ConfirmationToken() => "cnf_" + RandomNumberGenerator.GetString(Alphabet, 26);

    public const string RequestPrefix = "req_";

    public static string Request() => RequestPrefix + RandomNumberGenerator.GetHexString(12, lowercase: true);
}
