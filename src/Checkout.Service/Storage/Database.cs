using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace CheckoutService.Storage;

public enum DatabaseKind
{
    Sqlite,
    PostgreSql,
}

/// <summary>
/// The durable store: SQLite under ./data/ by default, PostgreSQL when <c>DATABASE_URL</c> says so.
/// The rest of the service writes portable SQL; what differs per engine lives here.
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly DbDataSource _dataSource;
    private readonly SqliteGroupCommit? _groupCommit;

    // Columns are snake_case, C# properties PascalCase: let Dapper match order_id to OrderId.
    static Database() => Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;

    private Database(DatabaseKind kind, DbDataSource dataSource)
    {
        Kind = kind;
        _dataSource = dataSource;
        _groupCommit = kind == DatabaseKind.Sqlite ? new SqliteGroupCommit(OpenAsync) : null;
    }

    public DatabaseKind Kind { get; }

    /// <param name="databaseUrl">Unset: SQLite at ./data/checkout.db; <c>sqlite:PATH</c>; a <c>postgres://</c> URL or an Npgsql connection string.</param>
    public static Database FromUrl(string? databaseUrl)
    {
        if (string.IsNullOrWhiteSpace(databaseUrl))
        {
            return Sqlite(Path.Combine("data", "checkout.db"));
        }
        if (databaseUrl.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            return Sqlite(databaseUrl["sqlite:".Length..]);
        }
        // Checked at start-up (IsValidUrl), so this cannot fail on the URL itself.
        return new Database(DatabaseKind.PostgreSql, NpgsqlDataSource.Create(ToNpgsqlConnectionString(databaseUrl)));
    }

    /// <summary>True when <paramref name="databaseUrl"/> can be used; start-up validation names the variable otherwise.</summary>
    public static bool IsValidUrl(string? databaseUrl)
    {
        if (string.IsNullOrWhiteSpace(databaseUrl) || databaseUrl.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        try
        {
            _ = ToNpgsqlConnectionString(databaseUrl);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException or FormatException)
        {
            return false;
        }
    }

    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        if (Kind == DatabaseKind.Sqlite)
        {
            // A writer that finds the file locked waits in SQLite's own busy handler (1, 2, 5, 10… ms),
            // not in the driver's retry loop, which sleeps 150 ms a time and made the checkout's tail.
            await using var busy = connection.CreateCommand();
            busy.CommandText = "PRAGMA busy_timeout = 10000";
            await busy.ExecuteNonQueryAsync(cancellationToken);
        }
        return connection;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction and returns once it is committed. On
    /// SQLite, writes that arrive together are committed together (<see cref="SqliteGroupCommit"/>),
    /// so <paramref name="work"/> must only use the connection and transaction it is given, and never
    /// write through another; on PostgreSQL each has its own transaction.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_groupCommit is not null)
        {
            return await _groupCommit.WriteAsync(work, cancellationToken);
        }
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <inheritdoc cref="WriteAsync{T}"/>
    public Task WriteAsync(Func<DbConnection, DbTransaction, Task> work, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await work(connection, transaction);
            return true;
        }, cancellationToken);

    /// <summary>Closes the pool with the host, so no connection (or SQLite file handle) outlives it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_groupCommit is not null)
        {
            await _groupCommit.DisposeAsync();
        }
        if (Kind == DatabaseKind.Sqlite)
        {
            // Microsoft.Data.Sqlite pools per connection string for the whole process, not per data source.
            using var connection = new SqliteConnection(_dataSource.ConnectionString);
            SqliteConnection.ClearPool(connection);
        }
        await _dataSource.DisposeAsync();
    }

    public static bool IsUniqueViolation(DbException exception) => exception switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555, // SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>A time as a parameter: PostgreSQL keeps TIMESTAMPTZ; SQLite has no time type, so an ISO-8601 UTC string that sorts as time does.</summary>
    public object Time(DateTimeOffset value) => Kind == DatabaseKind.PostgreSql
        ? value.ToUniversalTime()
        : value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A time as either engine returns it.</summary>
    public static DateTimeOffset ReadTime(object value) => value switch
    {
        DateTime dateTime => new DateTimeOffset(DateTime.SpecifyKind(dateTime, DateTimeKind.Utc)),
        DateTimeOffset dateTimeOffset => dateTimeOffset,
        string text => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        _ => throw new InvalidOperationException($"Unexpected time value {value.GetType()}"),
    };

    /// <summary>
    /// Runs <paramref name="work"/> only if no other replica is running work under the same lock:
    /// a PostgreSQL advisory lock across replicas, a process-wide one on SQLite (one process per file).
    /// False when another holds it.
    /// </summary>
    public async Task<bool> RunAloneAsync(long lockId, Func<Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Kind == DatabaseKind.Sqlite)
        {
            var gate = SqliteGates.GetOrAdd($"{_dataSource.ConnectionString}|{lockId}", _ => new SemaphoreSlim(1, 1));
            if (!await gate.WaitAsync(0, cancellationToken))
            {
                return false;
            }
            try
            {
                await work();
                return true;
            }
            finally
            {
                gate.Release();
            }
        }
        await using var connection = await OpenAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@lockId)", new { lockId }))
        {
            return false;
        }
        try
        {
            await work();
            return true;
        }
        finally
        {
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@lockId)", new { lockId });
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> SqliteGates = new(StringComparer.Ordinal);

    /// <summary><paramref name="column"/> is one of the list parameter's values: an array on PostgreSQL, a list Dapper expands on SQLite.</summary>
    public string AnyOf(string column, string parameter) =>
        Kind == DatabaseKind.PostgreSql ? $"{column} = ANY({parameter})" : $"{column} IN {parameter}";

    /// <summary>Column types that the two engines spell differently.</summary>
    public string Dialect(string sql) => sql
        .Replace("{{timestamptz}}", Kind == DatabaseKind.PostgreSql ? "TIMESTAMPTZ" : "TEXT", StringComparison.Ordinal)
        .Replace("{{identity}}", Kind == DatabaseKind.PostgreSql ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT", StringComparison.Ordinal);

    private static Database Sqlite(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 30, // seconds a writer waits for the file lock before giving up
        }.ToString();
        return new Database(DatabaseKind.Sqlite, SqliteFactory.Instance.CreateDataSource(connectionString));
    }

    private static string ToNpgsqlConnectionString(string databaseUrl)
    {
        if (!Uri.TryCreate(databaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql"))
        {
            return new NpgsqlConnectionStringBuilder(databaseUrl).ConnectionString; // already key=value; throws on nonsense
        }
        var userInfo = uri.UserInfo.Split(':', 2);
        return new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
            Username = userInfo.Length > 0 ? Uri.UnescapeDataString(userInfo[0]) : null,
            Password = userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : null,
        }.ConnectionString;
    }
}
