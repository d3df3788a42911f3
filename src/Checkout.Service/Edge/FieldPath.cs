using System.Text;
using System.Text.Json;

namespace CheckoutService.Edge;

/// <summary>Field names as the API spells them: <c>shipping_address.zip</c>, <c>items[0].sku</c>.</summary>
public static class FieldPath
{
    /// <summary>From a C# property path (FluentValidation's <c>ShippingAddress.Zip</c>).</summary>
    public static string FromPropertyPath(string propertyPath)
    {
        ArgumentNullException.ThrowIfNull(propertyPath);
        var builder = new StringBuilder(propertyPath.Length + 8);
        foreach (var segment in propertyPath.Split('.'))
        {
            if (builder.Length > 0)
            {
                builder.Append('.');
            }
            var index = segment.IndexOf('[', StringComparison.Ordinal);
            builder.Append(JsonNamingPolicy.SnakeCaseLower.ConvertName(index < 0 ? segment : segment[..index]));
            if (index >= 0)
            {
                builder.Append(segment, index, segment.Length - index);
            }
        }
        return builder.ToString();
    }

    /// <summary>From System.Text.Json's path (<c>$.shipping_address.zip</c>, <c>$['x']</c>); empty for the root.</summary>
    public static string FromJsonPath(string? jsonPath) =>
        jsonPath is null or "$" ? "" : jsonPath.TrimStart('$').TrimStart('.');
}
