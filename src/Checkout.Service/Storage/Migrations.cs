using System.Data;
using Dapper;

namespace CheckoutService.Storage;

/// <summary>
/// Applies the embedded <c>Migrations/NNNN_name.sql</c> scripts in order, each once, on either
/// engine, all in one transaction. On PostgreSQL that transaction first takes an advisory lock,
/// before anything else touches the schema, so replicas starting together on an empty database
/// queue up and the later ones find the work done. Hand-rolled because the schema is small and
/// the runner needs only this; see docs/decisions/0002-storage.md.
/// </summary>
public static class Migrations
{
    /// <summary>Any fixed number: the replicas only need to agree on it.</summary>
    private const long LockId = 4602;

    public static async Task ApplyAsync(Database database, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(time);
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Kind == DatabaseKind.Sqlite)
        {
            // WAL lets readers run beside the one writer; it is a property of the file, set once.
            await connection.ExecuteAsync("PRAGMA journal_mode=WAL;");
        }
        // Read committed, so a replica that waited for the lock sees what the first one applied;
        // SQLite's transaction takes the file's write lock at once, which serialises the same way.
        await using var transaction = database.Kind == DatabaseKind.PostgreSql
            ? await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken)
            : await connection.BeginTransactionAsync(cancellationToken);
        if (database.Kind == DatabaseKind.PostgreSql)
        {
            await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@LockId)", new { LockId }, transaction);
        }
        await connection.ExecuteAsync(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)", transaction: transaction);
        var applied = (await connection.QueryAsync<string>("SELECT version FROM schema_migrations", transaction: transaction)).ToHashSet(StringComparer.Ordinal);
        foreach (var (version, sql) in Scripts().Where(s => !applied.Contains(s.Version)))
        {
            await connection.ExecuteAsync(database.Dialect(sql), transaction: transaction);
            await connection.ExecuteAsync(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @at)",
                new { version, at = time.GetUtcNow().ToString("O") }, transaction);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private static IEnumerable<(string Version, string Sql)> Scripts()
    {
        var assembly = typeof(Migrations).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            var version = name.Split('.')[^2]; // CheckoutService.Storage.Migrations.0001_orders.sql -> 0001_orders
            yield return (version, reader.ReadToEnd());
        }
    }
}
