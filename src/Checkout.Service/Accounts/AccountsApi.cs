using System.Diagnostics;
using System.Security.Cryptography;
using CheckoutService.Edge;
using CheckoutService.Orders;
using CheckoutService.RateLimits;
using CheckoutService.Storage;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace CheckoutService.Accounts;

/// <summary>
/// Guest to registered: an account is claimed from an order with its confirmation token; other
/// guest orders of the same email join only once the email is proven with a one-time code; sign-in
/// gives a bearer token for the account's orders. Passwords are hashed with ASP.NET Core
/// Identity's <see cref="PasswordHasher{TUser}"/>; no password, code or token is ever logged.
/// </summary>
public static class AccountsApi
{
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(24);

    private static readonly SignInValidator SignInRules = new();

    /// <summary>Verified against when there is no account, so a sign-in for an unknown email takes as long as a wrong password.</summary>
    private static readonly string DecoyHash = CreateAccountFromOrder.Hasher.HashPassword(null!, "decoy password that matches nothing");

    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .Validate(s => SealedCode.IsValidKey(s.EmailEventKey), "EMAIL_EVENT_KEY must be 32 bytes in base64 (openssl rand -base64 32).")
            .Validate<IHostEnvironment>((s, environment) => environment.IsDevelopment() || !string.IsNullOrEmpty(s.EmailEventKey),
                "EMAIL_EVENT_KEY is not set: outside Development the verification codes in account.email_verification events are sealed with it, "
                + "and the mailer opens them with the same key.");
        return services.AddApiJson(AccountsJson.Default).AddSingleton<AccountStore>().AddSingleton<CreateAccountFromOrder>().AddSingleton<SignInThrottle>()
            .AddSingleton<SealedCode>().AddSingleton(new SecretTopic(AccountStore.EmailVerificationTopic)).AddSingleton<PendingAccountSweep>().AddHostedService(sp => sp.GetRequiredService<PendingAccountSweep>());
    }

    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/v2/accounts");
        accounts.MapPost("", CreateAccount).PerClientPerMinute("account-create", 10);
        accounts.MapPost("/{accountId}/verify-email", VerifyEmail).PerClientPerMinute("email-verify", 10);
        accounts.MapPost("/sessions", SignIn).PerClientPerMinute("sign-in", 10);
        accounts.MapDelete("/sessions/current", SignOut).PerClientPerMinute("sign-out", 60);
        accounts.MapGet("/me/orders", MyOrders).PerClientPerMinute("account-orders", 60);
        return app;
    }

    public static async Task<Results<Created<AccountCreated>, ValidationFailed, ApiError>> CreateAccount(
        CreateAccountRequest request, CreateAccountFromOrder createAccount, CancellationToken cancellationToken) =>
        await createAccount.RunAsync(request, cancellationToken) switch
        {
            CreateAccountOutcome.Created { Account: var created } => TypedResults.Created($"/api/v2/accounts/{created.AccountId}", created),
            CreateAccountOutcome.Invalid { Error: var error } => new ValidationFailed([error]),
            CreateAccountOutcome.Refused { Error: var error } => ApiError.Of(error),
            var other => throw new UnreachableException($"No answer for {other.GetType().Name}"),
        };

    public static async Task<Results<Ok<EmailVerified>, ApiError>> VerifyEmail(
        string accountId, VerifyEmailRequest request, AccountStore accounts, TimeProvider time, CancellationToken cancellationToken)
    {
        var (outcome, joined) = request.Code is { Length: > 0 and <= 16 } code
            ? await accounts.VerifyEmailAsync(accountId, Sha256.Hex(code), time.GetUtcNow(), cancellationToken)
            : (VerifyOutcome.WrongCode, 0);
        return outcome == VerifyOutcome.Verified
            ? TypedResults.Ok(new EmailVerified(accountId, joined))
            : ApiError.Of(Errors.InvalidCode);
    }

    public static async Task<Results<Ok<SignedIn>, ValidationFailed, ApiError>> SignIn(
        SignInRequest request, AccountStore accounts, SignInThrottle throttle, HttpContext context, TimeProvider time, CancellationToken cancellationToken)
    {
        // A body without an email or a password is a malformed request (422), not a failed sign-in (401).
        if (ValidationFailed.ErrorsOf(SignInRules.Validate(request)) is { Count: > 0 } missing)
        {
            return new ValidationFailed(missing);
        }
        var email = request.Email is { Length: <= FieldRules.MaxEmailLength } e ? e : "";
        var client = context.Connection.RemoteIpAddress;
        if (await throttle.RefusalAsync(email, client, cancellationToken) is { } wait)
        {
            return ApiError.Of(Errors.RateLimited.Saying("Too many failed sign-ins from here. Please wait before trying again.").RetryAfter((int)wait.TotalSeconds));
        }
        await throttle.SlowDownAsync(email, cancellationToken);
        var account = email.Length > 0 ? await MatchAsync(accounts, email, request.Password!, cancellationToken) : null;
        if (account is null)
        {
            await throttle.FailedAsync(email, client, cancellationToken);
            return ApiError.Of(Errors.InvalidCredentials);
        }
        var now = time.GetUtcNow();
        var token = "acc_" + WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        await accounts.IssueTokenAsync(Sha256.Hex(token), account.AccountId, now + TokenLifetime, cancellationToken);
        return TypedResults.Ok(new SignedIn(token, now + TokenLifetime));
    }

    /// <summary>
    /// The account the password opens: the email's owner, or while nobody owns it, one of its pending
    /// accounts. A hash made with older settings is made again with today's.
    /// </summary>
    private static async Task<Account?> MatchAsync(AccountStore accounts, string email, string password, CancellationToken cancellationToken)
    {
        var candidates = await accounts.ForSignInAsync(email, cancellationToken);
        if (candidates.Count == 0)
        {
            // An unknown email takes as long as a wrong password, so it cannot be told apart.
            CreateAccountFromOrder.Hasher.VerifyHashedPassword(null!, DecoyHash, password);
            return null;
        }
        foreach (var candidate in candidates)
        {
            switch (CreateAccountFromOrder.Hasher.VerifyHashedPassword(candidate, candidate.PasswordHash, password))
            {
                case PasswordVerificationResult.Success:
                    return candidate;
                case PasswordVerificationResult.SuccessRehashNeeded:
                    await accounts.ReplacePasswordHashAsync(candidate.AccountId, CreateAccountFromOrder.Hasher.HashPassword(candidate, password), cancellationToken);
                    return candidate;
            }
        }
        return null;
    }

    /// <summary>Signs out: the access token stops working at once.</summary>
    public static async Task<Results<NoContent, ApiError>> SignOut(
        [FromHeader] string? authorization, AccountStore accounts, CancellationToken cancellationToken) =>
        BearerToken.From(authorization) is { Length: > 0 } token && await accounts.RevokeTokenAsync(Sha256.Hex(token), cancellationToken)
            ? TypedResults.NoContent()
            : ApiError.Of(Errors.Unauthorized.Saying("Sign in first"));

    public static async Task<Results<Ok<IReadOnlyList<OrderView>>, ApiError>> MyOrders(
        [FromHeader] string? authorization, AccountStore accounts, IOrderStore orders, TimeProvider time, CancellationToken cancellationToken)
    {
        if (BearerToken.From(authorization) is not { Length: > 0 } token
            || await accounts.AccountOfTokenAsync(Sha256.Hex(token), time.GetUtcNow(), cancellationToken) is not { } accountId)
        {
            return ApiError.Of(Errors.Unauthorized);
        }
        var views = new List<OrderView>();
        foreach (var orderId in await accounts.OrderIdsAsync(accountId, cancellationToken))
        {
            if (await orders.GetAsync(orderId, cancellationToken) is { } order)
            {
                views.Add(OrderView.Of(order));
            }
        }
        return TypedResults.Ok<IReadOnlyList<OrderView>>(views);
    }

    private sealed class SignInValidator : AbstractValidator<SignInRequest>
    {
        public SignInValidator()
        {
            RuleFor(r => r.Email).Required("Email address");
            RuleFor(r => r.Password).Required("Password");
        }
    }
}
