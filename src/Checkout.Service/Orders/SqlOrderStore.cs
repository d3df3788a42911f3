using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using CheckoutService.Edge;
using CheckoutService.Storage;
using Dapper;

namespace CheckoutService.Orders;

/// <summary>Orders in SQLite or PostgreSQL through the same portable SQL.</summary>
internal sealed class SqlOrderStore(Database database) : IOrderStore
{
    private const string Columns =
        "order_id, cart_id, session_id, email, confirmation_token_hash, status, total_cents, currency, lines, " +
        "shipping_address, payment_method_id, payment_intent_id, charge_id, estimated_delivery, created_at, updated_at";

    public async Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        await using var connection = await database.OpenAsync(cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO orders ({Columns}) VALUES (@OrderId, @CartId, @SessionId, @Email, @ConfirmationTokenHash, @Status, " +
                "@TotalCents, @Currency, @Lines, @ShippingAddress, @PaymentMethodId, @PaymentIntentId, @ChargeId, " +
                "@EstimatedDelivery, @CreatedAt, @CreatedAt)",
                OrderRow.From(order, database.Kind), cancellationToken: cancellationToken));
            return true;
        }
        catch (DbException e) when (Database.IsUniqueViolation(e))
        {
            return false;
        }
    }

    public Task<Order?> GetAsync(string orderId, CancellationToken cancellationToken) =>
        QuerySingleAsync("order_id = @key", orderId, cancellationToken);

    public Task<Order?> FindByCartAsync(string cartId, CancellationToken cancellationToken) =>
        QuerySingleAsync("cart_id = @key", cartId, cancellationToken);

    private async Task<Order?> QuerySingleAsync(string where, string key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<OrderRow>(new CommandDefinition(
            $"SELECT {Columns} FROM orders WHERE {where}", new { key }, cancellationToken: cancellationToken));
        return row?.ToOrder();
    }

    /// <summary>The order as columns: money in cents, lists and the address as JSON, times as the engine keeps them.</summary>
    private sealed class OrderRow
    {
        public string OrderId { get; set; } = "";
        public string CartId { get; set; } = "";
        public string SessionId { get; set; } = "";
        public string Email { get; set; } = "";
        public string ConfirmationTokenHash { get; set; } = "";
        public string Status { get; set; } = "";
        public long TotalCents { get; set; }
        public string Currency { get; set; } = "";
        public string Lines { get; set; } = "";
        public string ShippingAddress { get; set; } = "";
        public string PaymentMethodId { get; set; } = "";
        public string PaymentIntentId { get; set; } = "";
        public string ChargeId { get; set; } = "";
        public object EstimatedDelivery { get; set; } = "";
        public object CreatedAt { get; set; } = "";

        public static OrderRow From(Order o, DatabaseKind kind) => new()
        {
            OrderId = o.OrderId,
            CartId = o.CartId,
            SessionId = o.SessionId,
            Email = o.Email,
            ConfirmationTokenHash = o.ConfirmationTokenHash,
            Status = o.Status,
            TotalCents = o.Total.Cents,
            Currency = o.Currency,
            Lines = JsonSerializer.Serialize(o.Lines, OrdersJson.Default.IReadOnlyListOrderLine),
            ShippingAddress = JsonSerializer.Serialize(o.ShippingAddress, OrdersJson.Default.ShippingAddress),
            PaymentMethodId = o.PaymentMethodId,
            PaymentIntentId = o.PaymentIntentId,
            ChargeId = o.ChargeId,
            EstimatedDelivery = Time(o.EstimatedDelivery, kind),
            CreatedAt = Time(o.CreatedAt, kind),
        };

        public Order ToOrder() => new(
            OrderId, CartId, SessionId, Email, ConfirmationTokenHash, Status, new Money(TotalCents), Currency,
            JsonSerializer.Deserialize(Lines, OrdersJson.Default.IReadOnlyListOrderLine) ?? [],
            JsonSerializer.Deserialize(ShippingAddress, OrdersJson.Default.ShippingAddress)!,
            PaymentMethodId, PaymentIntentId, ChargeId, ReadTime(EstimatedDelivery), ReadTime(CreatedAt));

        // PostgreSQL keeps TIMESTAMPTZ; SQLite has no time type, so an ISO-8601 UTC string that sorts as time does.
        private static object Time(DateTimeOffset value, DatabaseKind kind) => kind == DatabaseKind.PostgreSql
            ? value.ToUniversalTime()
            : value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

        private static DateTimeOffset ReadTime(object value) => value switch
        {
            DateTime dateTime => new DateTimeOffset(DateTime.SpecifyKind(dateTime, DateTimeKind.Utc)),
            DateTimeOffset dateTimeOffset => dateTimeOffset,
            string text => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            _ => throw new InvalidOperationException($"Unexpected time value {value.GetType()}"),
        };
    }
}
