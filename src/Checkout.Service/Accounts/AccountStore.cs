using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json;
using CheckoutService.Edge;
using CheckoutService.Storage;
using Dapper;

namespace CheckoutService.Accounts;

public enum VerifyOutcome
{
    Verified,
    WrongCode,
    /// <summary>No live code: never sent, expired, used, or burned by too many wrong tries; or the account is gone.</summary>
    NoCode,
}

public enum CreateOutcome
{
    Created,
    /// <summary>A verified account owns the email, or the order already has an account.</summary>
    Taken,
}

/// <summary>
/// Accounts, their tokens and email proofs in the durable store; every secret as a SHA-256 hash.
/// An account owns its email only once it has proven it (docs/decisions/0016): until then it is
/// pending, one of any number for that email, and sees only the order it was claimed from.
/// </summary>
public sealed class AccountStore(Database database, Outbox outbox)
{
    /// <summary>A pending account that has not proven its email in this long is deleted.</summary>
    public static readonly TimeSpan PendingLifetime = TimeSpan.FromDays(7);

    /// <summary>The most pending accounts of one email a sign-in tries (each try is a password hash).</summary>
    public const int MaxPendingTried = 10;

    /// <summary>Wrong codes a proof survives before it is burned (a six-digit code is not guessed in five tries).</summary>
    public const int MaxCodeAttempts = 5;

    public const string EmailVerificationTopic = "account.email_verification";

    /// <summary>
    /// Creates a pending account, joins the order it was claimed from, and queues the email proof,
    /// in one transaction. <see cref="CreateOutcome.Taken"/> when a verified account owns the email
    /// or the order has an account already.
    /// </summary>
    public Task<CreateOutcome> TryCreateAsync(
        Account account, string orderId, string codeHash, DateTimeOffset codeExpiresAt, EmailVerificationEvent proof, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(proof);
        var emailKey = EmailAddress.Key(account.Email);
        return database.WriteAsync(async (connection, transaction) =>
        {
            if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM accounts WHERE owned_email_key = @emailKey", new { emailKey }, transaction, cancellationToken: cancellationToken)) > 0)
            {
                return CreateOutcome.Taken;
            }
            // One account per order: a second claim of the same order is refused.
            if (await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE orders SET account_id = @AccountId WHERE order_id = @orderId AND account_id IS NULL",
                new { account.AccountId, orderId }, transaction, cancellationToken: cancellationToken)) == 0)
            {
                return CreateOutcome.Taken;
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO accounts (account_id, email, email_key, owned_email_key, password_hash, created_at) " +
                "VALUES (@AccountId, @Email, @emailKey, @Pending, @PasswordHash, @At)",
                new { account.AccountId, account.Email, emailKey, Pending = PendingKey(account.AccountId), account.PasswordHash, At = database.Time(account.CreatedAt) },
                transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO email_verifications (account_id, code_hash, expires_at, attempts) VALUES (@AccountId, @codeHash, @At, 0)",
                new { account.AccountId, codeHash, At = database.Time(codeExpiresAt) }, transaction, cancellationToken: cancellationToken));
            await outbox.AddAsync(connection, transaction, new OutboxEvent(proof.EventId, EmailVerificationTopic, account.AccountId, EmailVerificationTopic,
                JsonSerializer.Serialize(proof, AccountsJson.Default.EmailVerificationEvent), account.CreatedAt), cancellationToken);
            return CreateOutcome.Created;
        }, cancellationToken);
    }

    /// <summary>
    /// The accounts a sign-in with this email may be for: its owner, or, while nobody owns it, its
    /// pending accounts, newest first.
    /// </summary>
    public async Task<IReadOnlyList<Account>> ForSignInAsync(string email, CancellationToken cancellationToken)
    {
        var emailKey = EmailAddress.Key(email);
        var owner = await QueryAccountsAsync("owned_email_key = @emailKey", new { emailKey }, cancellationToken);
        return owner.Count > 0
            ? owner
            : await QueryAccountsAsync($"email_key = @emailKey AND email_verified_at IS NULL ORDER BY created_at DESC LIMIT {MaxPendingTried}", new { emailKey }, cancellationToken);
    }

    public async Task IssueTokenAsync(string tokenHash, string accountId, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO account_access_tokens (token_hash, account_id, expires_at) VALUES (@tokenHash, @accountId, @At)",
            new { tokenHash, accountId, At = database.Time(expiresAt) }, transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>Revokes an access token (sign-out). False when there was no such token.</summary>
    public Task<bool> RevokeTokenAsync(string tokenHash, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM account_access_tokens WHERE token_hash = @tokenHash", new { tokenHash }, transaction, cancellationToken: cancellationToken)) > 0,
            cancellationToken);

    /// <summary>A password hash made again with the hasher's current settings.</summary>
    public async Task ReplacePasswordHashAsync(string accountId, string passwordHash, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE accounts SET password_hash = @passwordHash WHERE account_id = @accountId", new { accountId, passwordHash }, transaction,
            cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>The account a live token belongs to, or null.</summary>
    public async Task<string?> AccountOfTokenAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT account_id FROM account_access_tokens WHERE token_hash = @tokenHash AND expires_at > @now",
            new { tokenHash, now = database.Time(now) }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Checks an email proof. When it is right the account owns the email, the email's other pending
    /// accounts are deleted (their tokens with them), and every guest order placed with the email
    /// joins the account, in one transaction.
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
            var emailKey = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                "SELECT email_key FROM accounts WHERE account_id = @accountId", new { accountId }, transaction, cancellationToken: cancellationToken));
            if (emailKey is null || await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM accounts WHERE owned_email_key = @emailKey", new { emailKey }, transaction, cancellationToken: cancellationToken)) > 0)
            {
                return (VerifyOutcome.NoCode, 0); // another account proved the email first
            }
            await DeleteAsync(connection, transaction,
                "SELECT account_id FROM accounts WHERE email_key = @emailKey AND email_verified_at IS NULL AND account_id <> @accountId",
                new { emailKey, accountId }, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM email_verifications WHERE account_id = @accountId", new { accountId }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE accounts SET email_verified_at = @now, owned_email_key = email_key WHERE account_id = @accountId",
                new { accountId, now = database.Time(now) }, transaction, cancellationToken: cancellationToken));
            var joined = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE orders SET account_id = @accountId WHERE account_id IS NULL AND email_key = @emailKey",
                new { accountId, emailKey }, transaction, cancellationToken: cancellationToken));
            return (VerifyOutcome.Verified, joined);
        }, cancellationToken);

    /// <summary>Deletes the pending accounts older than <see cref="PendingLifetime"/>; how many.</summary>
    public Task<int> DeleteExpiredPendingAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => DeleteAsync(connection, transaction,
            "SELECT account_id FROM accounts WHERE email_verified_at IS NULL AND created_at < @Before",
            new { Before = database.Time(now - PendingLifetime) }, cancellationToken), cancellationToken);

    /// <summary>
    /// Deletes the accounts the query selects, with their tokens and proofs; the orders they held
    /// are guest orders again, for whoever proves their email.
    /// </summary>
    private static async Task<int> DeleteAsync(DbConnection connection, DbTransaction transaction, string select, object parameters, CancellationToken cancellationToken)
    {
        foreach (var statement in (string[])[
            $"DELETE FROM account_access_tokens WHERE account_id IN ({select})",
            $"DELETE FROM email_verifications WHERE account_id IN ({select})",
            $"UPDATE orders SET account_id = NULL WHERE account_id IN ({select})"])
        {
            await connection.ExecuteAsync(new CommandDefinition(statement, parameters, transaction, cancellationToken: cancellationToken));
        }
        return await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM accounts WHERE account_id IN ({select})", parameters, transaction, cancellationToken: cancellationToken));
    }

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

    /// <summary>The unique owner key of an account that owns nothing yet: its own, so it never collides.</summary>
    private static string PendingKey(string accountId) => "pending:" + accountId;

    private async Task<IReadOnlyList<Account>> QueryAccountsAsync(string where, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string AccountId, string Email, string PasswordHash, object? EmailVerifiedAt, object CreatedAt)>(
            new CommandDefinition($"SELECT account_id, email, password_hash, email_verified_at, created_at FROM accounts WHERE {where}",
                parameters, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new Account(
            r.AccountId, r.Email, r.PasswordHash, r.EmailVerifiedAt is null ? null : Database.ReadTime(r.EmailVerifiedAt), Database.ReadTime(r.CreatedAt)))];
    }
}
