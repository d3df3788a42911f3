using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;

namespace CheckoutService.Edge;

/// <summary>
/// The API's JSON: snake_case, strict about numbers and duplicate keys, times as
/// <c>2025-09-14T00:00:00Z</c> as the API writes them. Each feature keeps its types in
/// its own source-generated context (with <c>[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
/// PropertyNamingPolicy = SnakeCaseLower)]</c>) and adds it here from its <c>AddX()</c>.
/// </summary>
public static class ApiJson
{
    /// <summary>Makes <paramref name="context"/>'s types readable from request bodies and writable by TypedResults.</summary>
    public static IServiceCollection AddApiJson(this IServiceCollection services, IJsonTypeInfoResolver context) =>
        services.Configure<JsonOptions>(o => o.SerializerOptions.TypeInfoResolverChain.Add(context));

    /// <summary>The rules every request body is read with, set once.</summary>
    internal static IServiceCollection AddApiJsonRules(this IServiceCollection services) =>
        services.Configure<JsonOptions>(o =>
        {
            var options = o.SerializerOptions;
            options.TypeInfoResolverChain.Insert(0, EdgeJson.Default);
            options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            options.NumberHandling = JsonNumberHandling.Strict;
            options.AllowDuplicateProperties = false;
            options.MaxDepth = 16;
            options.Converters.Add(new UtcSecondsConverter());
        });
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(ValidationBody))]
internal sealed partial class EdgeJson : JsonSerializerContext;

/// <summary>Times on the wire to the second, in UTC, as the API writes them.</summary>
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
