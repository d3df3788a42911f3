using System.Data.Common;
using System.Text.Json;
using CheckoutService.Edge;
using CheckoutService.Storage;
using Dapper;

namespace CheckoutService.Orders;

/// <summary>Orders in SQLite or PostgreSQL through the same portable SQL.</summary>
internal sealed class SqlOrderStore(Database database, Outbox outbox) : IOrderStore
{
    private const string Columns =
        "order_id, cart_id, session_id, email, confirmation_token_hash, status, total_cents, currency, lines, " +
        "shipping_address, payment_method_id, payment_intent_id, charge_id, estimated_delivery, created_at, updated_at, amount_refunded_cents";

    public async Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        try
        {
            return await database.WriteAsync(async (connection, transaction) =>
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    $"INSERT INTO orders ({Columns}, email_key) VALUES (@OrderId, @CartId, @SessionId, @Email, @ConfirmationTokenHash, @Status, " +
                    "@TotalCents, @Currency, @Lines, @ShippingAddress, @PaymentMethodId, @PaymentIntentId, @ChargeId, " +
                    "@EstimatedDelivery, @CreatedAt, @CreatedAt, @AmountRefundedCents, @EmailKey)",
                    OrderRow.From(order, database), transaction, cancellationToken: cancellationToken));
                await AppendHistoryAsync(connection, transaction,
                    new OrderStatusChange("placed:" + order.OrderId, order.OrderId, order.Status, "placed", order.CreatedAt), cancellationToken);
                await outbox.AddAsync(connection, transaction, OrderCompletedEvent.Of(order), cancellationToken);
                return true;
            }, cancellationToken);
        }
        catch (DbException e) when (Database.IsUniqueViolation(e))
        {
            return false;
        }
    }

    public async Task<bool> ReplaceConfirmationTokenAsync(string orderId, string expectedHash, string newHash, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE orders SET confirmation_token_hash = @newHash WHERE order_id = @orderId AND confirmation_token_hash = @expectedHash",
            new { orderId, expectedHash, newHash }, transaction, cancellationToken: cancellationToken)), cancellationToken) == 1;

    public Task<Order?> GetAsync(string orderId, CancellationToken cancellationToken) =>
        QuerySingleAsync("order_id = @key", orderId, cancellationToken);

    public Task<Order?> FindByCartAsync(string cartId, CancellationToken cancellationToken) =>
        QuerySingleAsync("cart_id = @key", cartId, cancellationToken);

    public Task<Order?> FindByPaymentIntentAsync(string paymentIntentId, CancellationToken cancellationToken) =>
        QuerySingleAsync("payment_intent_id = @key", paymentIntentId, cancellationToken);

    public Task<Order?> FindByConfirmationTokenHashAsync(string confirmationTokenHash, CancellationToken cancellationToken) =>
        QuerySingleAsync("confirmation_token_hash = @key", confirmationTokenHash, cancellationToken);

    public async Task<IReadOnlyList<OrderKeys>> PlacedSinceAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return [.. await connection.QueryAsync<OrderKeys>(new CommandDefinition(
            "SELECT order_id AS OrderId, payment_intent_id AS PaymentIntentId, confirmation_token_hash AS ConfirmationTokenHash FROM orders " +
            "WHERE created_at >= @since ORDER BY created_at DESC LIMIT @limit",
            new { since = database.Time(since), limit }, cancellationToken: cancellationToken))];
    }

    public async Task<StatusChangeResult> ChangeStatusAsync(OrderStatusChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        try
        {
            return await database.WriteAsync(async (connection, transaction) =>
            {
                var updated = await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE orders SET status = @Status, amount_refunded_cents = COALESCE(@AmountRefunded, amount_refunded_cents), updated_at = @At " +
                    "WHERE order_id = @OrderId AND (@FromStatus IS NULL OR status = @FromStatus) " +
                    "AND (@FromAmountRefunded IS NULL OR amount_refunded_cents = @FromAmountRefunded)",
                    new
                    {
                        change.Status, AmountRefunded = change.AmountRefunded?.Cents, At = database.Time(change.ChangedAt), change.OrderId, change.FromStatus,
                        FromAmountRefunded = change.FromAmountRefunded?.Cents,
                    }, transaction, cancellationToken: cancellationToken));
                if (updated == 0)
                {
                    return (change.FromStatus ?? (object?)change.FromAmountRefunded) is not null && await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                        "SELECT COUNT(*) FROM orders WHERE order_id = @OrderId", new { change.OrderId }, transaction, cancellationToken: cancellationToken)) > 0
                        ? StatusChangeResult.StatusMoved
                        : StatusChangeResult.NoSuchOrder;
                }
                // The history row's unique id makes the whole change happen once, however often it is asked for.
                await AppendHistoryAsync(connection, transaction, change, cancellationToken);
                return StatusChangeResult.Applied;
            }, cancellationToken);
        }
        catch (DbException e) when (Database.IsUniqueViolation(e))
        {
            return StatusChangeResult.AlreadyApplied;
        }
    }

    public async Task<IReadOnlyList<OrderStatusChange>> HistoryAsync(string orderId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<HistoryRow>(new CommandDefinition(
            "SELECT change_id, order_id, status, reason, changed_at FROM order_status_history WHERE order_id = @orderId ORDER BY changed_at, change_id",
            new { orderId }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new OrderStatusChange(r.ChangeId, r.OrderId, r.Status, r.Reason, Database.ReadTime(r.ChangedAt)))];
    }

    private Task<int> AppendHistoryAsync(DbConnection connection, DbTransaction transaction, OrderStatusChange change, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO order_status_history (change_id, order_id, status, reason, changed_at) VALUES (@Id, @OrderId, @Status, @Reason, @At)",
            new { Id = change.ChangeId, change.OrderId, change.Status, change.Reason, At = database.Time(change.ChangedAt) },
            transaction, cancellationToken: cancellationToken));

    private sealed class HistoryRow
    {
        public string ChangeId { get; set; } = "";
        public string OrderId { get; set; } = "";
        public string Status { get; set; } = "";
        public string Reason { get; set; } = "";
        public object ChangedAt { get; set; } = "";
    }

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
        public long AmountRefundedCents { get; set; }

        /// <summary>Written, never read back: the canonical email accounts are matched by (<see cref="EmailAddress.Key"/>).</summary>
        public string? EmailKey { get; set; }

        public static OrderRow From(Order o, Database database) => new()
        {
            OrderId = o.OrderId,
            CartId = o.CartId,
            SessionId = o.SessionId,
            Email = o.Email,
            EmailKey = EmailAddress.Key(o.Email),
            ConfirmationTokenHash = o.ConfirmationTokenHash,
            Status = o.Status,
            TotalCents = o.Total.Cents,
            Currency = o.Currency,
            Lines = JsonSerializer.Serialize(o.Lines, OrdersJson.Default.IReadOnlyListOrderLine),
            ShippingAddress = JsonSerializer.Serialize(o.ShippingAddress, OrdersJson.Default.ShippingAddress),
            PaymentMethodId = o.PaymentMethodId,
            PaymentIntentId = o.PaymentIntentId,
            ChargeId = o.ChargeId,
            EstimatedDelivery = database.Time(o.EstimatedDelivery),
            CreatedAt = database.Time(o.CreatedAt),
            AmountRefundedCents = o.AmountRefunded.Cents,
        };

        public Order ToOrder() => new(
            OrderId, CartId, SessionId, Email, ConfirmationTokenHash, Status, new Money(TotalCents), Currency,
            JsonSerializer.Deserialize(Lines, OrdersJson.Default.IReadOnlyListOrderLine) ?? [],
            JsonSerializer.Deserialize(ShippingAddress, OrdersJson.Default.ShippingAddress)!,
            PaymentMethodId, PaymentIntentId, ChargeId, Database.ReadTime(EstimatedDelivery), Database.ReadTime(CreatedAt))
        {
            AmountRefunded = new Money(AmountRefundedCents),
        };
    }
}
