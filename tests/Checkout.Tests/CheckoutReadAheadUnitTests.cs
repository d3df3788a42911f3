using System.Text;
using CheckoutService.Checkout;
using Microsoft.AspNetCore.Http;

namespace CheckoutService.Tests;

/// <summary>The checkout's read-ahead finds the cart in the body however it is sent, and leaves the body for the endpoint.</summary>
public sealed class CheckoutReadAheadUnitTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)] // chunked, as .NET's JsonContent sends it
    public async Task TheCartId_IsFound_WithOrWithoutAContentLength(bool withLength)
    {
        var request = Request("""{"cart_id":"cart_abc123def456","email":"user4827@example.com"}""", withLength);

        var cartId = await CheckoutApi.CartIdOfAsync(request);

        Assert.Equal("cart_abc123def456", cartId);
        Assert.Equal(0, request.Body.Position); // the endpoint reads the body from the start
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"cart_id":42}""")]
    [InlineData("")]
    public async Task ABodyItCannotRead_IsLeftToTheEndpoint(string body) =>
        Assert.Null(await CheckoutApi.CartIdOfAsync(Request(body, withLength: true)));

    private static HttpRequest Request(string body, bool withLength)
    {
        var context = new DefaultHttpContext();
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = withLength ? bytes.Length : null;
        return context.Request;
    }
}
