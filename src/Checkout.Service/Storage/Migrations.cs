using System.Data;
using System.Data.Common;
using Dapper;

namespace CheckoutService.Storage;

/// <summary>
/// Applies the embedded <c>Migrations/NNNN_name.sql</c> scripts in order, each once, each in its
/// own transaction, on either engine. Replicas starting together take a lock first so only one
/// migrates. Hand-rolled because the schema is small and FluentMigrator's runner does not
/// restore here; see docs/decisions/0002-storage.md.
/// </summary>
public static class Migrations
{
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
        await connection.ExecuteAsync(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)");

        foreach (var (version, sql) in Scripts())
        {
            // Read committed, so a replica that waited for the lock sees what the first one applied.
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            if (database.Kind == DatabaseKind.PostgreSql)
            {
                await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(4602)", transaction: transaction);
            }
            var applied = await connection.ExecuteScalarAsync<int>(
                "SELECT COUNT(*) FROM schema_migrations WHERE version = @version", new { version }, transaction);
            if (applied == 0)
            {
                await connection.ExecuteAsync(database.Dialect(sql), transaction: transaction);
                await connection.ExecuteAsync(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @at)",
                    new { version, at = time.GetUtcNow().ToString("O") }, transaction);
            }
            await transaction.CommitAsync(cancellationToken);
        }
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
