using System.Globalization;
using CheckoutService.Storage;
using Dapper;

namespace CheckoutService.Flags;

/// <summary>One change of a flag, as the audit keeps it.</summary>
public sealed record FlagChange(string Name, string Change, DateTimeOffset ChangedAt, string ChangedBy);

/// <summary>Where flags live: a row per flag and an audit line per change, written together.</summary>
public interface IFlagStore
{
    /// <summary>The flag as operators last set it; null when nobody has (the settings' starting targeting applies).</summary>
    Task<FlagState?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Saves <paramref name="state"/> and its audit line in one transaction.</summary>
    Task SaveAsync(FlagState state, string change, CancellationToken cancellationToken);

    /// <summary>The newest changes first.</summary>
    Task<IReadOnlyList<FlagChange>> HistoryAsync(string name, int limit, CancellationToken cancellationToken);
}

/// <summary>
/// Flags in the orders database: the durable store every replica and the operator's command can
/// reach, in the embedded mode too (docs/decisions/0011).
/// </summary>
internal sealed class SqlFlagStore(Database database) : IFlagStore
{
    public async Task<FlagState?> GetAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync(new CommandDefinition(
            "SELECT name, enabled, percent, regions, version, updated_at, updated_by FROM feature_flags WHERE name = @name",
            new { name }, cancellationToken: cancellationToken));
        return row is null
            ? null
            : new FlagState((string)row.name, Convert.ToBoolean(row.enabled, CultureInfo.InvariantCulture), Convert.ToInt32(row.percent, CultureInfo.InvariantCulture),
                FlagState.ParseRegions((string)row.regions), Convert.ToInt64(row.version, CultureInfo.InvariantCulture), Database.ReadTime(row.updated_at), (string)row.updated_by);
    }

    public async Task SaveAsync(FlagState state, string change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var values = new
        {
            state.Name,
            state.Enabled,
            state.Percent,
            Regions = string.Join(',', state.Regions),
            state.Version,
            At = database.Time(state.UpdatedAt),
            By = state.UpdatedBy,
            change,
        };
        await database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO feature_flags (name, enabled, percent, regions, version, updated_at, updated_by) VALUES (@Name, @Enabled, @Percent, @Regions, @Version, @At, @By) " +
                "ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, percent = excluded.percent, regions = excluded.regions, " +
                "version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                values, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO feature_flag_changes (name, change, changed_at, changed_by) VALUES (@Name, @change, @At, @By)",
                values, transaction, cancellationToken: cancellationToken));
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<FlagChange>> HistoryAsync(string name, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync(new CommandDefinition(
            "SELECT name, change, changed_at, changed_by FROM feature_flag_changes WHERE name = @name ORDER BY seq DESC LIMIT @limit",
            new { name, limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new FlagChange((string)r.name, (string)r.change, Database.ReadTime(r.changed_at), (string)r.changed_by))];
    }
}
