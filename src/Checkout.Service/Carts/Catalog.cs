using System.Collections.Frozen;
using System.Text.Json;
using CheckoutService.Edge;

namespace CheckoutService.Carts;

public sealed record Product(string Sku, string Name, Money UnitPrice, string Currency = Catalog.Currency);

/// <summary>The product catalogue, read once from the JSON file shipped in the assembly.</summary>
public sealed class Catalog
{
    public const string Currency = "USD";

    private readonly FrozenDictionary<string, Product> _bySku;

    public Catalog(IEnumerable<Product> products)
    {
        ArgumentNullException.ThrowIfNull(products);
        Products = [.. products];
        _bySku = Products.ToFrozenDictionary(p => p.Sku, StringComparer.Ordinal);
    }

    public IReadOnlyList<Product> Products { get; }

    public bool TryGet(string sku, out Product product) => _bySku.TryGetValue(sku, out product!);

    public static Catalog LoadEmbedded()
    {
        using var stream = typeof(Catalog).Assembly.GetManifestResourceStream("catalog.json")
            ?? throw new InvalidOperationException("catalog.json is not embedded in the service assembly.");
        var products = JsonSerializer.Deserialize(stream, CartsJson.Default.ProductArray)
            ?? throw new InvalidOperationException("catalog.json is empty.");
        return new Catalog(products);
    }
}
