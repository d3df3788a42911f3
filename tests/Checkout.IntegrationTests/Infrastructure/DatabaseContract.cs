namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>
/// A test class run once per database: each subclass names a fresh SQLite file or PostgreSQL
/// database, and <see cref="App"/> is a host on it (its own, so nothing is shared between tests).
/// </summary>
public abstract class DatabaseContract : IAsyncLifetime
{
    private readonly List<CheckoutApp> _apps = [];

    protected string DatabaseUrl { get; private set; } = "";

    protected CheckoutApp App { get; private set; } = null!;

    protected abstract Task<string> DatabaseUrlAsync();

    /// <summary>The host as the test class wants it (a fake clock, a swapped store); on <see cref="DatabaseUrl"/> either way.</summary>
    protected virtual CheckoutApp Configure(CheckoutApp app) => app;

    /// <summary>Another replica on the same database, disposed with the test.</summary>
    protected CheckoutApp Replica()
    {
        var app = Configure(new CheckoutApp());
        app.Settings["DATABASE_URL"] = DatabaseUrl;
        _apps.Add(app);
        return app;
    }

    public async ValueTask InitializeAsync()
    {
        DatabaseUrl = await DatabaseUrlAsync();
        App = Replica();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>A new SQLite file in its own temporary folder.</summary>
    protected static Task<string> NewSqliteDatabaseAsync() =>
        Task.FromResult("sqlite:" + Path.Combine(Directory.CreateTempSubdirectory("checkout-db-").FullName, "checkout.db"));
}
