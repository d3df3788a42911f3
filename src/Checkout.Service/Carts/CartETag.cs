using System.Globalization;
using Microsoft.Net.Http.Headers;

namespace CheckoutService.Carts;

/// <summary>A cart's version as an HTTP entity tag: what the cart API sends as <c>ETag</c> and what an <c>If-Match</c> may name.</summary>
public static class CartETag
{
    public static string Of(long version) => new EntityTagHeaderValue($"\"{version}\"").ToString();

    public static bool TryParse(string header, out long version)
    {
        version = 0;
        return EntityTagHeaderValue.TryParse(header, out var tag)
            && long.TryParse(tag.Tag.AsSpan().Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out version);
    }

    /// <summary>Whether an <c>If-Match</c> holds for <paramref name="version"/>: <c>*</c> holds for any, a header that names no version for none.</summary>
    public static bool Matches(string ifMatch, long version)
    {
        ArgumentNullException.ThrowIfNull(ifMatch);
        return ifMatch.Trim() == "*" || (TryParse(ifMatch, out var named) && named == version);
    }
}
