namespace CheckoutService.Edge;

/// <summary>
/// <c>/openapi/v1.json</c>: ASP.NET Core's own OpenAPI document of every endpoint, with the error
/// bodies each can answer (<see cref="ApiError"/> and <see cref="ValidationFailed"/> describe themselves).
/// </summary>
public static class ApiDocs
{
    public static IServiceCollection AddApiDocs(this IServiceCollection services) => services.AddOpenApi();

    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi();
        return app;
    }
}
