using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

[assembly: AssemblyFixture(typeof(CheckoutService.IntegrationTests.Infrastructure.KafkaMockCluster))]

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>
/// Kafka for the whole test run: librdkafka's built-in mock cluster (3 brokers on loopback, in
/// this process), which speaks the real wire protocol to ordinary Confluent.Kafka producers and
/// group consumers, with no JVM or container. Started once, in milliseconds; tests use their own
/// topics or tell their messages apart by key.
/// </summary>
public sealed class KafkaMockCluster : IAsyncLifetime
{
    /// <summary>The topics the service writes to, made up front so the first produce does not race topic creation.</summary>
    private static readonly string[] ServiceTopics = ["cart.abandonment", "checkout.order_completed", "checkout.analytics", "account.email_verification"];

    private IntPtr _handle;
    private IntPtr _cluster;

    /// <summary>Comma-separated <c>host:port</c> list for <c>bootstrap.servers</c>.</summary>
    public string BootstrapServers { get; private set; } = "";

    public ValueTask InitializeAsync()
    {
        var conf = NativeMethods.rd_kafka_conf_new();
        var error = new byte[512];
        // The mock cluster hangs off a client handle; a producer handle is the cheapest one (no group thread).
        _handle = NativeMethods.rd_kafka_new(NativeMethods.Producer, conf, error, (nuint)error.Length);
        if (_handle == IntPtr.Zero)
        {
            NativeMethods.rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException("rd_kafka_new failed: " + System.Text.Encoding.UTF8.GetString(error).TrimEnd('\0'));
        }
        _cluster = NativeMethods.rd_kafka_mock_cluster_new(_handle, 3);
        if (_cluster == IntPtr.Zero)
        {
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        // Without this every new consumer group waits 3 s before its first assignment.
        NativeMethods.rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, 0);
        BootstrapServers = Marshal.PtrToStringUTF8(NativeMethods.rd_kafka_mock_cluster_bootstraps(_cluster))
            ?? throw new InvalidOperationException("rd_kafka_mock_cluster_bootstraps returned null");
        foreach (var topic in ServiceTopics)
        {
            CreateTopic(topic);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Creates <paramref name="topic"/> with replication factor 1 (the mock's brokers never fail unless told to).</summary>
    public void CreateTopic(string topic, int partitions = 3)
    {
        var error = NativeMethods.rd_kafka_mock_topic_create(_cluster, topic, partitions, 1);
        if (error != 0)
        {
            throw new InvalidOperationException($"rd_kafka_mock_topic_create({topic}) failed with rd_kafka_resp_err_t {error}");
        }
    }

    /// <summary>
    /// Reads <paramref name="topic"/> from the beginning in a fresh consumer group until
    /// <paramref name="expected"/> messages arrived or <paramref name="timeout"/> passed; returns
    /// what it got either way, so a test can assert on the count and see what did arrive.
    /// </summary>
    public Task<IReadOnlyList<ConsumeResult<string, string>>> ReadAllAsync(string topic, int expected, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ReadUntilAsync(topic, _ => true, expected, timeout, cancellationToken);

    /// <summary>
    /// Like <see cref="ReadAllAsync"/>, counting only the messages <paramref name="mine"/> picks (a
    /// test's own keys), so the service topics other tests also write to can be shared.
    /// </summary>
    public Task<IReadOnlyList<ConsumeResult<string, string>>> ReadUntilAsync(
        string topic, Func<ConsumeResult<string, string>, bool> mine, int expected, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        // Consume blocks a thread; keep it off the test's.
        Task.Run<IReadOnlyList<ConsumeResult<string, string>>>(() =>
        {
            var config = new ConsumerConfig
            {
                BootstrapServers = BootstrapServers,
                GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
                AutoOffsetReset = AutoOffsetReset.Earliest,
                EnableAutoCommit = false,
            };
            using var consumer = new ConsumerBuilder<string, string>(config).Build();
            consumer.Subscribe(topic);
            var results = new List<ConsumeResult<string, string>>();
            var started = TimeProvider.System.GetTimestamp();
            try
            {
                while (results.Count < expected && !cancellationToken.IsCancellationRequested)
                {
                    var left = timeout - TimeProvider.System.GetElapsedTime(started);
                    if (left <= TimeSpan.Zero)
                    {
                        break;
                    }
                    // Short polls so cancellation is noticed; Consume returns null when nothing came.
                    var result = consumer.Consume(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
                    if (result is { IsPartitionEOF: false } && mine(result))
                    {
                        results.Add(result);
                    }
                }
            }
            finally
            {
                consumer.Close();
            }
            return results;
        }, cancellationToken);

    public ValueTask DisposeAsync()
    {
        if (_cluster != IntPtr.Zero)
        {
            NativeMethods.rd_kafka_mock_cluster_destroy(_cluster);
            _cluster = IntPtr.Zero;
        }
        if (_handle != IntPtr.Zero)
        {
            NativeMethods.rd_kafka_destroy(_handle);
            _handle = IntPtr.Zero;
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The librdkafka mock API, which Confluent.Kafka does not wrap. The library is resolved to the
    /// same file Confluent.Kafka loads: the package's <c>librdkafka.so</c> where its dependencies
    /// (libsasl2.so.3) exist, else the bundled <c>centos8-librdkafka.so</c> (Debian 12).
    /// </summary>
    private static class NativeMethods
    {
        private const string Library = "checkout-test-librdkafka";

        public const int Producer = 0;

        static NativeMethods() => NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);

        private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (libraryName != Library)
            {
                return IntPtr.Zero;
            }
            var directory = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
            foreach (var file in (string[])["librdkafka.so", "centos8-librdkafka.so"])
            {
                if (NativeLibrary.TryLoad(Path.Combine(directory, file), out var handle))
                {
                    return handle;
                }
            }
            throw new DllNotFoundException($"Neither librdkafka.so nor centos8-librdkafka.so in {directory} loads.");
        }

        [DllImport(Library)]
        public static extern IntPtr rd_kafka_conf_new();

        [DllImport(Library)]
        public static extern void rd_kafka_conf_destroy(IntPtr conf);

        [DllImport(Library)]
        public static extern IntPtr rd_kafka_new(int type, IntPtr conf, [Out] byte[] errstr, nuint errstrSize);

        [DllImport(Library)]
        public static extern void rd_kafka_destroy(IntPtr rk);

        [DllImport(Library)]
        public static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

        [DllImport(Library)]
        public static extern void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

        /// <summary>Returns a <c>const char*</c> the cluster owns; do not free it.</summary>
        [DllImport(Library)]
        public static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

        [DllImport(Library)]
        public static extern void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr mcluster, int delayMs);

        // The topic goes as UTF-8, librdkafka's encoding; CA2101 only knows ANSI and UTF-16.
#pragma warning disable CA2101
        [DllImport(Library)]
        public static extern int rd_kafka_mock_topic_create(IntPtr mcluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitionCount, int replicationFactor);
#pragma warning restore CA2101
    }
}
