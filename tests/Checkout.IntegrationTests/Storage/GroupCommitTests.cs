using CheckoutService.Storage;
using Dapper;

namespace CheckoutService.IntegrationTests.Storage;

/// <summary>SQLite's group commit: concurrent writes share a transaction, yet each one succeeds or fails alone.</summary>
public sealed class GroupCommitTests : IAsyncDisposable
{
    private readonly Database _database = Database.FromUrl("sqlite:" + Path.Combine(Directory.CreateTempSubdirectory("checkout-group-").FullName, "checkout.db"));

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task ConcurrentWrites_AreAllCommitted_AndAFailingOne_FailsAlone()
    {
        await _database.WriteAsync((connection, transaction) =>
            connection.ExecuteAsync("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)", transaction: transaction), CancellationToken.None);

        var writes = Enumerable.Range(0, 200).Select(i => _database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync("INSERT INTO things (id, name) VALUES (@i, @name)", new { i, name = "thing" + i }, transaction);
            if (i % 10 == 3)
            {
                // A second row breaks the unique name: this write, and only it, must be undone.
                await connection.ExecuteAsync("INSERT INTO things (id, name) VALUES (@id, @name)", new { id = 1000 + i, name = "thing" + (i - 1) }, transaction);
            }
            return i;
        }, CancellationToken.None)).ToList();

        foreach (var (write, i) in writes.Select((w, i) => (w, i)))
        {
            if (i % 10 == 3)
            {
                await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => write);
            }
            else
            {
                Assert.Equal(i, await write);
            }
        }
        await using var reader = await _database.OpenAsync(CancellationToken.None);
        var ids = (await reader.QueryAsync<long>("SELECT id FROM things ORDER BY id")).ToList();
        Assert.Equal(Enumerable.Range(0, 200).Where(i => i % 10 != 3).Select(i => (long)i), ids);
    }
}
