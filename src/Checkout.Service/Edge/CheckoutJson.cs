using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Carts;
using CheckoutService.Checkout;
using CheckoutService.Observability;
using CheckoutService.Orders;
using CheckoutService.Sessions;

namespace CheckoutService.Edge;

/// <summary>
/// The API's JSON: snake_case, source-generated, strict about numbers and duplicate keys, times as
/// <c>2025-09-14T00:00:00Z</c> as the log's traces write them.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.Strict,
    AllowDuplicateProperties = false,
    MaxDepth = 16,
    Converters = [typeof(UtcSecondsConverter)])]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(ValidationBody))]
[JsonSerializable(typeof(Product[]))]
[JsonSerializable(typeof(IReadOnlyList<Product>))]
[JsonSerializable(typeof(CreateCartRequest))]
[JsonSerializable(typeof(SetQuantityRequest))]
[JsonSerializable(typeof(CartView))]
[JsonSerializable(typeof(StartSessionRequest))]
[JsonSerializable(typeof(SaveShippingAddressRequest))]
[JsonSerializable(typeof(SavePaymentMethodRequest))]
[JsonSerializable(typeof(SessionCreated))]
[JsonSerializable(typeof(SessionView))]
[JsonSerializable(typeof(CheckoutRequest))]
[JsonSerializable(typeof(CheckoutResponse))]
[JsonSerializable(typeof(ShippingAddress))]
[JsonSerializable(typeof(IReadOnlyList<OrderLine>))]
[JsonSerializable(typeof(HealthBody))]
[JsonSerializable(typeof(Cart))]
[JsonSerializable(typeof(GuestSession))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(CheckoutService.Idempotency.IdempotencyRecord))]
[JsonSerializable(typeof(CheckoutService.RateLimits.HitCount))]
public sealed partial class CheckoutJson : JsonSerializerContext;

public sealed class UtcSecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }
}
