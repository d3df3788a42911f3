using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;

namespace CheckoutService.Edge;

/// <summary>
/// Turns everything that is not a handler's own answer into the log's error body: bodies the
/// framework could not read (400/413/415/422), unknown routes (404/405), and the unexpected (500,
/// with its cause logged). No client input reaches a 500.
/// </summary>
internal sealed partial class ErrorHandling(ILogger<ErrorHandling> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        IResult result = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => FromJson(json),
            BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } bad when bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase) =>
                ApiError.Of(400, "INVALID_JSON", "Request body must be a JSON object"),
            BadHttpRequestException bad => ForStatus(bad.StatusCode),
            Storage.StoreContentionException => ApiError.Of(409, "CONCURRENT_UPDATE",
                "This was changed in another tab at the same moment. Please try again.", retryAfterSeconds: 1),
            _ when Storage.RedisConnection.IsOutage(exception) => StoreUnavailable(exception),
            _ => Unexpected(exception),
        };
        await result.ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>
    /// Well-formed JSON whose value has the wrong type names its field (422); anything else is
    /// not JSON we can read (400).
    /// </summary>
    private static IResult FromJson(JsonException json)
    {
        // A value of the wrong type comes with no inner exception (a converter refused it) or a bare
        // InvalidOperationException (the reader was asked for another token type); broken JSON and
        // broken UTF-8 come with the reader's or the decoder's exception inside.
        var isTypeError = json.InnerException is null or InvalidOperationException { InnerException: null };
        var isSyntaxError = !isTypeError || json.Path is null;
        if (!isSyntaxError && FieldPath.FromJsonPath(json.Path) is { Length: > 0 } field)
        {
            return ValidationFailed.One(field, Checkout.FieldCodes.InvalidType, $"{field} has the wrong type", "See the API reference for the field's type");
        }
        return ApiError.Of(400, "INVALID_JSON", "Request body is not valid JSON");
    }

    /// <summary>The error for a status the framework chose itself (no route, wrong method, body too big or not JSON).</summary>
    public static ApiError ForStatus(int status) => status switch
    {
        400 => ApiError.Of(400, "BAD_REQUEST", "The request is not valid"),
        404 => ApiError.Of(404, "NOT_FOUND", "No such resource"),
        405 => ApiError.Of(405, "METHOD_NOT_ALLOWED", "Method not allowed on this resource"),
        413 => ApiError.Of(413, "PAYLOAD_TOO_LARGE", "Request body is larger than 8 KB"),
        415 => ApiError.Of(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json"),
        _ => ApiError.Of(status, "HTTP_" + status, "The request could not be served"),
    };

    private ApiError StoreUnavailable(Exception exception)
    {
        LogStoreUnavailable(logger, exception.GetType().Name, exception.Message);
        return ApiError.Of(503, "SERVICE_UNAVAILABLE", "Checkout is briefly unavailable. Please try again in a moment.", retryAfterSeconds: 2);
    }

    private ApiError Unexpected(Exception exception)
    {
        LogUnexpected(logger, exception);
        return ApiError.Of(500, "INTERNAL_ERROR", "Something went wrong on our side. Please try again.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shared store unavailable: {Failure}: {Detail}")]
    private static partial void LogStoreUnavailable(ILogger logger, string failure, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);
}

internal static class ErrorHandlingRegistration
{
    public static IServiceCollection AddErrorHandling(this IServiceCollection services)
    {
        services.AddExceptionHandler<ErrorHandling>();
        services.AddProblemDetails();
        // Let binding failures reach the handler above instead of an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // Request binding and TypedResults use these options: make them the context's own.
        services.Configure<JsonOptions>(o =>
        {
            var api = CheckoutJson.Default.Options;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, CheckoutJson.Default);
            o.SerializerOptions.PropertyNamingPolicy = api.PropertyNamingPolicy;
            o.SerializerOptions.NumberHandling = api.NumberHandling;
            o.SerializerOptions.AllowDuplicateProperties = api.AllowDuplicateProperties;
            o.SerializerOptions.MaxDepth = api.MaxDepth;
            foreach (var converter in api.Converters)
            {
                o.SerializerOptions.Converters.Add(converter);
            }
        });
        return services;
    }

    public static IApplicationBuilder UseErrorHandling(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(context => ErrorHandling.ForStatus(context.HttpContext.Response.StatusCode).ExecuteAsync(context.HttpContext));
        return app;
    }
}
