using System.Text.Json;
using System.Text.Json.Serialization;

namespace CheckoutService.Idempotency;

/// <summary>
/// What the shared store keeps under an <c>Idempotency-Key</c>: who is running the request and
/// for which body, then the response to replay for 24 hours.
/// </summary>
public sealed record IdempotencyRecord(
    string Fingerprint,
    string Owner,
    bool Completed,
    int StatusCode = 0,
    string? ContentType = null,
    string? Location = null,
    byte[]? Body = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(IdempotencyRecord))]
internal sealed partial class IdempotencyJson : JsonSerializerContext;
