using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace CheckoutService.Edge;

/// <summary>
/// Turns what the framework refused before a handler ran into the API's error body: bodies it
/// could not read (400/413/415/422) and unknown routes (404/405). Decided by the exception's type
/// and status, never its message. Other capabilities add their own <see cref="IExceptionHandler"/>
/// for their failures (Storage: the store is down); whatever nobody handled is a 500 with the
/// same shape and its cause logged.
/// </summary>
internal sealed partial class ErrorHandling : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }
        var result = bad switch
        {
            { InnerException: JsonException json } => FromJson(json),
            // The body could not be bound at all (empty, or not an object): not JSON we can read.
            { StatusCode: StatusCodes.Status400BadRequest } => ApiError.Of(Errors.InvalidJson.Saying("Request body must be a JSON object")),
            _ => ForStatus(httpContext, bad.StatusCode),
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
            return ValidationFailed.One(field, FieldCodes.InvalidType, $"{field} has the wrong type", "See the API reference for the field's type");
        }
        return ApiError.Of(Errors.InvalidJson);
    }

    /// <summary>The error for a status the framework chose itself (no route, wrong method, body too big or not JSON).</summary>
    public static ApiError ForStatus(HttpContext context, int status) => status switch
    {
        400 => ApiError.Of(Errors.BadRequest),
        404 => ApiError.Of(Errors.NotFound),
        405 => ApiError.Of(Errors.MethodNotAllowed),
        413 => ApiError.Of(Errors.PayloadTooLarge.Saying($"Request body is larger than {BodyLimits.Describe(BodyLimits.Of(context))}")),
        415 => ApiError.Of(Errors.UnsupportedMediaType),
        _ => ApiError.Of(new NamedError(status, "HTTP_" + status, "The request could not be served")),
    };

    /// <summary>The last resort: a 500 in the API's shape, its cause logged and never shown.</summary>
    public static Task Unexpected(HttpContext context)
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILogger<ErrorHandling>>();
        LogUnexpected(logger, exception);
        return ApiError.Of(Errors.InternalError).ExecuteAsync(context);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception")]
    private static partial void LogUnexpected(ILogger logger, Exception? exception);
}

internal static class ErrorHandlingRegistration
{
    public static IServiceCollection AddErrorHandling(this IServiceCollection services)
    {
        services.AddExceptionHandler<ErrorHandling>();
        // Let binding failures reach the handler above instead of an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services.AddApiJsonRules();
    }

    public static IApplicationBuilder UseErrorHandling(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = ErrorHandling.Unexpected });
        app.UseStatusCodePages(context => ErrorHandling.ForStatus(context.HttpContext, context.HttpContext.Response.StatusCode).ExecuteAsync(context.HttpContext));
        return app;
    }
}
