using System.Text.Json;
using System.Text.Json.Serialization;

namespace CheckoutService.Accounts;

public sealed record Account(string AccountId, string Email, string PasswordHash, DateTimeOffset? EmailVerifiedAt, DateTimeOffset CreatedAt);

public sealed record CreateAccountRequest(string? OrderId, string? ConfirmationToken, string? Password);

public sealed record AccountCreated(string AccountId, string Email);

public sealed record VerifyEmailRequest(string? Code);

public sealed record EmailVerified(string AccountId, int OrdersJoined);

public sealed record SignInRequest(string? Email, string? Password);

public sealed record SignedIn(string AccessToken, DateTimeOffset ExpiresAt);

/// <summary>What the <c>account.email_verification</c> event carries to the mailer: the code sealed (<see cref="SealedCode"/>), never in clear.</summary>
public sealed record EmailVerificationEvent(string EventId, string AccountId, string Email, string SealedCode, DateTimeOffset ExpiresAt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CreateAccountRequest))]
[JsonSerializable(typeof(AccountCreated))]
[JsonSerializable(typeof(VerifyEmailRequest))]
[JsonSerializable(typeof(EmailVerified))]
[JsonSerializable(typeof(SignInRequest))]
[JsonSerializable(typeof(SignedIn))]
[JsonSerializable(typeof(EmailVerificationEvent))]
internal sealed partial class AccountsJson : JsonSerializerContext;
