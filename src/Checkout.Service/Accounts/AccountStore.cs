using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json;
using CheckoutService.Storage;
using Dapper;

namespace CheckoutService.Accounts;

public enum VerifyOutcome
{
    Verified,
    WrongCode,
    /// <summary>No live code: never sent, expired, used, or burned by too many wrong tries.</summary>
    NoCode,
}

/// <summary>Accounts, their tokens and email proofs in the durable store; every secret as a SHA-256 hash.</summary>
public sealed class AccountStore(Database database, Outbox outbox)
{
    /// <summary>Wrong codes a proof survives before it is burned (a six-digit code is not guessed in five tries).</summary>
    public const int MaxCodeAttempts = 5;

    public const string EmailVerificationTopic = "account.email_verification";

    /// <summary>
    /// Creates the account, joins the order it was claimed from, and queues the email proof, in
    /// one transaction. False when the email already has an account.
    /// </summary>
    public async Task<bool> TryCreateAsync(
        Account account, string orderId, string codeHash, DateTimeOffset codeExpiresAt, EmailVerificationEvent proof, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(proof);
        try
        {
            return await database.WriteAsync(async (connection, transaction) =>
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO accounts (account_id, email, email_key, password_hash, created_at) VALUES (@AccountId, @Email, @EmailKey, @PasswordHash, @At)",
                    new { account.AccountId, account.Email, EmailKey = EmailKey(account.Email), account.PasswordHash, At = database.Time(account.CreatedAt) },
                    transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE orders SET account_id = @AccountId WHERE order_id = @orderId AND account_id IS NULL",
                    new { account.AccountId, orderId }, transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO email_verifications (account_id, code_hash, expires_at, attempts) VALUES (@AccountId, @codeHash, @At, 0)",
                    new { account.AccountId, codeHash, At = database.Time(codeExpiresAt) }, transaction, cancellationToken: cancellationToken));
                await outbox.AddAsync(connection, transaction, new OutboxEvent(proof.EventId, EmailVerificationTopic, account.AccountId, EmailVerificationTopic,
                    JsonSerializer.Serialize(proof, AccountsJson.Default.EmailVerificationEvent), account.CreatedAt), cancellationToken);
                return true;
            }, cancellationToken);
        }
        catch (DbException e) when (Database.IsUniqueViolation(e))
        {
            return false;
        }
    }

    public Task<Account?> FindByEmailAsync(string email, CancellationToken cancellationToken) =>
        QueryAccountAsync("email_key = @key", EmailKey(email), cancellationToken);

    public async Task IssueTokenAsync(string tokenHash, string accountId, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO account_access_tokens (token_hash, account_id, expires_at) VALUES (@tokenHash, @accountId, @At)",
            new { tokenHash, accountId, At = database.Time(expiresAt) }, transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>The account a live token belongs to, or null.</summary>
    public async Task<string?> AccountOfTokenAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT account_id FROM account_access_tokens WHERE token_hash = @tokenHash AND expires_at > @now",
            new { tokenHash, now = database.Time(now) }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Checks an email proof; when it is right, the email counts as proven and every guest order
    /// placed with it joins the account, in one transaction.
    /// </summary>
    public Task<(VerifyOutcome Outcome, int OrdersJoined)> VerifyEmailAsync(
        string accountId, string codeHash, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync<(VerifyOutcome, int)>(async (connection, transaction) =>
        {
            var proofs = (await connection.QueryAsync<(string CodeHash, object ExpiresAt, int Attempts)>(new CommandDefinition(
                "SELECT code_hash, expires_at, attempts FROM email_verifications WHERE account_id = @accountId",
                new { accountId }, transaction, cancellationToken: cancellationToken))).ToList();
            if (proofs is not [var live] || Database.ReadTime(live.ExpiresAt) <= now || live.Attempts >= MaxCodeAttempts)
            {
                return (VerifyOutcome.NoCode, 0);
            }
            if (!CryptographicOperations.FixedTimeEquals(Convert.FromHexString(live.CodeHash), Convert.FromHexString(codeHash)))
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE email_verifications SET attempts = attempts + 1 WHERE account_id = @accountId", new { accountId }, transaction, cancellationToken: cancellationToken));
                return (VerifyOutcome.WrongCode, 0);
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM email_verifications WHERE account_id = @accountId", new { accountId }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE accounts SET email_verified_at = @now WHERE account_id = @accountId",
                new { accountId, now = database.Time(now) }, transaction, cancellationToken: cancellationToken));
            var joined = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE orders SET account_id = @accountId WHERE account_id IS NULL AND LOWER(email) = (SELECT email_key FROM accounts WHERE account_id = @accountId)",
                new { accountId }, transaction, cancellationToken: cancellationToken));
            return (VerifyOutcome.Verified, joined);
        }, cancellationToken);

    public async Task<IReadOnlyList<string>> OrderIdsAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return [.. await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT order_id FROM orders WHERE account_id = @accountId ORDER BY created_at", new { accountId }, cancellationToken: cancellationToken))];
    }

    /// <summary>Whether the order has joined an account (claimed from it, or by a proven email).</summary>
    public async Task<bool> HoldsOrderAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM orders WHERE order_id = @orderId AND account_id IS NOT NULL", new { orderId }, cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>Emails are one account each whatever their letter case.</summary>
    public static string EmailKey(string email) => email.Trim().ToLowerInvariant();

    private async Task<Account?> QueryAccountAsync(string where, string key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(string AccountId, string Email, string PasswordHash, object? EmailVerifiedAt, object CreatedAt)>(
            new CommandDefinition($"SELECT account_id, email, password_hash, email_verified_at, created_at FROM accounts WHERE {where}",
                new { key }, cancellationToken: cancellationToken))).ToList();
        return rows is [var r]
            ? new Account(r.AccountId, r.Email, r.PasswordHash, r.EmailVerifiedAt is null ? null : Database.ReadTime(r.EmailVerifiedAt), Database.ReadTime(r.CreatedAt))
            : null;
    }
}
