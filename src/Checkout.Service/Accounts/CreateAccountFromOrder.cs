using System.Globalization;
using System.Security.Cryptography;
using CheckoutService.Edge;
using CheckoutService.Observability;
using CheckoutService.Orders;
using Microsoft.AspNetCore.Identity;

namespace CheckoutService.Accounts;

/// <summary>How claiming an account from an order ended. The API and the confirmation page each say it their own way.</summary>
public abstract record CreateAccountOutcome
{
    private CreateAccountOutcome()
    {
    }

    public sealed record Created(AccountCreated Account) : CreateAccountOutcome;

    /// <summary>The password is not one we take.</summary>
    public sealed record Invalid(FieldError Error) : CreateAccountOutcome;

    public sealed record Refused(NamedError Error) : CreateAccountOutcome;
}

/// <summary>
/// Guest to registered: an account is claimed from an order with its confirmation token, and holds
/// that order at once; the email's other guest orders join once it is proven with the one-time code
/// sent in the <c>account.email_verification</c> event. The API and the confirmation page both
/// call this, so they accept and refuse the same passwords.
/// </summary>
public sealed class CreateAccountFromOrder(IOrderStore orders, AccountStore accounts, SealedCode sealedCode, TimeProvider time)
{
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(15);

    /// <summary>ASP.NET Core Identity's hasher; it holds no state, so sign-in verifies with the same one.</summary>
    internal static readonly PasswordHasher<Account> Hasher = new();

    public async Task<CreateAccountOutcome> RunAsync(CreateAccountRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Password))
        {
            return new CreateAccountOutcome.Invalid(PasswordPolicy.Check(request.Password, "")!);
        }
        if (await OrdersApi.OpenAsync(orders, request.OrderId, request.ConfirmationToken, cancellationToken) is not { } order)
        {
            return new CreateAccountOutcome.Refused(Errors.OrderNotFound);
        }
        // Judged once the order is known, so the order's email counts against the password.
        if (PasswordPolicy.Check(request.Password, order.Email) is { } weak)
        {
            return new CreateAccountOutcome.Invalid(weak);
        }

        var now = time.GetUtcNow();
        var account = new Account("acct_" + RandomNumberGenerator.GetHexString(16, lowercase: true), order.Email, "", null, now);
        account = account with { PasswordHash = Hasher.HashPassword(account, request.Password!) };
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
        var proof = new EmailVerificationEvent("evt_" + RandomNumberGenerator.GetHexString(16, lowercase: true), account.AccountId, account.Email,
            sealedCode.Seal(code, account.AccountId), now + CodeLifetime);
        if (await accounts.TryCreateAsync(account, order.OrderId, Sha256.Hex(code), now + CodeLifetime, proof, cancellationToken) == CreateOutcome.Taken)
        {
            return new CreateAccountOutcome.Refused(Errors.AccountExists);
        }
        return new CreateAccountOutcome.Created(new AccountCreated(account.AccountId, MaskedEmail.Of(account.Email)));
    }
}
