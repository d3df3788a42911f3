using System.Security.Cryptography;

namespace CheckoutService.Edge;

/// <summary>Public ids and bearer secrets, all from the OS CSPRNG.</summary>
public static class Ids
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public static string Cart() => "cart_" + RandomNumberGenerator.GetString(Alphabet, 12);

    public static string Order() => "ord_" + RandomNumberGenerator.GetString(Alphabet, 12);

    public static string ConfirmationToken() => "cnf_" + RandomNumberGenerator.GetString(Alphabet, 12);

    public const string RequestPrefix = "req_";

    public static string Request() => RequestPrefix + RandomNumberGenerator.GetHexString(12, lowercase: true);
}
