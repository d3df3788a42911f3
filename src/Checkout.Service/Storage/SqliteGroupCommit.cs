using System.Data.Common;
using System.Threading.Channels;

namespace CheckoutService.Storage;

/// <summary>
/// Group commit for SQLite, which has one writer at a time and pays an fsync per commit: one task
/// takes every write waiting, runs each in a savepoint of one transaction, and commits them
/// together, so concurrent checkouts share an fsync instead of queueing for the file lock. A write
/// that fails rolls back to its savepoint alone and its caller sees its exception; the others commit.
/// Durability is unchanged: each caller returns only after the commit that holds its write.
/// </summary>
internal sealed class SqliteGroupCommit : IAsyncDisposable
{
    /// <summary>Writes in one transaction at most, so one slow batch cannot hold the rest for long.</summary>
    public const int MaxBatch = 64;

    private readonly Func<CancellationToken, ValueTask<DbConnection>> _open;
    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public SqliteGroupCommit(Func<CancellationToken, ValueTask<DbConnection>> open)
    {
        _open = open;
        _writer = Task.Run(RunAsync);
    }

    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        var write = new Write<T>(work, cancellationToken);
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(SqliteGroupCommit), "The database is closed");
        }
        return write.Result;
    }

    private async Task RunAsync()
    {
        var batch = new List<Write>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var write))
            {
                if (!write.Cancelled)
                {
                    batch.Add(write);
                }
            }
            if (batch.Count > 0)
            {
                await CommitAsync(batch);
                batch.Clear();
            }
        }
    }

    private async Task CommitAsync(List<Write> batch)
    {
        try
        {
            await using var connection = await _open(CancellationToken.None);
            await using var transaction = await connection.BeginTransactionAsync();
            for (var i = 0; i < batch.Count; i++)
            {
                var savepoint = "write" + i;
                await transaction.SaveAsync(savepoint);
                try
                {
                    await batch[i].RunAsync(connection, transaction);
                    await transaction.ReleaseAsync(savepoint);
                }
                catch (Exception e)
                {
                    await transaction.RollbackAsync(savepoint);
                    batch[i].Fail(e);
                }
            }
            await transaction.CommitAsync();
            foreach (var write in batch)
            {
                write.Complete();
            }
        }
        catch (Exception e)
        {
            foreach (var write in batch)
            {
                write.Fail(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }

    private abstract class Write
    {
        public abstract bool Cancelled { get; }

        public abstract Task RunAsync(DbConnection connection, DbTransaction transaction);

        /// <summary>Hands the result over once its commit is done; a write that failed already has its answer.</summary>
        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private sealed class Write<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) : Write
    {
        private readonly TaskCompletionSource<T> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Result => _answer.Task;

        public override bool Cancelled => cancellationToken.IsCancellationRequested && _answer.TrySetCanceled(cancellationToken);

        public override async Task RunAsync(DbConnection connection, DbTransaction transaction) => _result = await work(connection, transaction);

        public override void Complete() => _answer.TrySetResult(_result);

        public override void Fail(Exception exception) => _answer.TrySetException(exception);
    }
}
