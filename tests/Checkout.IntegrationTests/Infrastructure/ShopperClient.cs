using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>What a shopper's browser does, one call each, with the answers as JSON.</summary>
public sealed class ShopperClient(HttpClient http) : IDisposable
{
    public HttpClient Http => http;

    public static readonly JsonObject Springfield = new()
    {
        ["line1"] = "742 Evergreen Terrace",
        ["line2"] = "",
        ["city"] = "Springfield",
        ["state"] = "IL",
        ["zip"] = "62704",
        ["country"] = "US",
    };

    public async Task<string> CreateCartAsync(params (string Sku, int Quantity)[] items)
    {
        var response = await SendAsync(HttpMethod.Post, "/api/v2/carts",
            new JsonObject { ["items"] = new JsonArray([.. items.Select(i => (JsonNode)new JsonObject { ["sku"] = i.Sku, ["quantity"] = i.Quantity })]) });
        Assert.Equal(HttpStatusCode.Created, response.Status);
        return (string)response.Body!["cart_id"]!;
    }

    public async Task<(string SessionId, string Token)> StartSessionAsync(string cartId, string email = "user4827@example.com")
    {
        var response = await SendAsync(HttpMethod.Post, "/api/v2/checkout/guest/session", new JsonObject { ["cart_id"] = cartId, ["email"] = email });
        Assert.Equal(HttpStatusCode.Created, response.Status);
        return ((string)response.Body!["session_id"]!, (string)response.Body["session_token"]!);
    }

    public static JsonObject CheckoutBody(string cartId, string paymentMethodId = "pm_stripe_4f9c2a1b", string email = "user4827@example.com") => new()
    {
        ["cart_id"] = cartId,
        ["email"] = email,
        ["shipping_address"] = Springfield.DeepClone(),
        ["payment_method_id"] = paymentMethodId,
    };

    public Task<Reply> CheckoutAsync(JsonNode body, string? token = null, Action<HttpRequestMessage>? configure = null) =>
        SendAsync(HttpMethod.Post, "/api/v2/checkout/guest", body, token, configure);

    public Task<Reply> SaveShippingAddressAsync(string sessionId, string? token) =>
        SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/shipping-address",
            new JsonObject { ["shipping_address"] = Springfield.DeepClone() }, token);

    public Task<Reply> SavePaymentMethodAsync(string sessionId, string paymentMethodId, string? token, Action<HttpRequestMessage>? configure = null) =>
        SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/payment-method",
            new JsonObject { ["payment_method_id"] = paymentMethodId }, token, configure);

    public Task<Reply> GetSessionAsync(string sessionId, string? token) =>
        SendAsync(HttpMethod.Get, $"/api/v2/checkout/guest/session/{sessionId}", null, token);

    public async Task<Reply> SendAsync(HttpMethod method, string path, JsonNode? body, string? token = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        configure?.Invoke(request);
        return await Reply.ReadAsync(await http.SendAsync(request));
    }

    public async Task<Reply> SendRawAsync(string path, string body, string contentType = "application/json")
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return await Reply.ReadAsync(await http.PostAsync(path, content));
    }

    public void Dispose() => http.Dispose();
}

public sealed record Reply(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)
{
    public static async Task<Reply> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    public string? Header(string name) =>
        Response.Headers.TryGetValues(name, out var values) || Response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : null;

    public string? Error => (string?)Body?["error"];

    /// <summary>(field, code) of each validation error, in order.</summary>
    public (string Field, string Code)[] FieldErrors =>
        [.. Body!["errors"]!.AsArray().Select(e => ((string)e!["field"]!, (string)e["code"]!))];
}
