using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using PaymentGateway.Contracts;

namespace PaymentGateway.Simulator;

/// <summary>
/// Stripe's browser side, served from the simulator's own origin so card data never passes
/// through the shop's: a Stripe.js v3 subset, the card field's iframe, <c>POST /v1/payment_methods</c>,
/// a hosted card page for shoppers without JavaScript, and the 3-D Secure challenge page.
/// Each page may be framed only by the origin it serves (frame-ancestors) and returns shoppers
/// only to allow-listed origins.
/// </summary>
public static class StripeBrowserApi
{
    private const int MaxFormBytes = 8 * 1024;

    private static readonly string StripeScript = Asset("stripe.js");
    private static readonly string CardScript = Asset("card-field.js");
    private static readonly string ChallengeDoneScript = Asset("challenge-done.js");
    private static readonly string Css = Asset("pages.css");

    public static IEndpointRouteBuilder MapStripeBrowserSide(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v3/stripe.js", StripeJs);
        app.MapGet("/v3/elements/card", CardFrame);
        app.MapPost("/v1/payment_methods", CreatePaymentMethod);
        app.MapGet("/v3/hosted/card", HostedCard);
        app.MapPost("/v3/hosted/card", HostedCardSubmit);
        app.MapGet("/v3/authenticate/{intentId}", Challenge);
        app.MapPost("/v3/authenticate/{intentId}", AnswerChallenge);
        return app;
    }

    /// <summary>The challenge page for an intent waiting for 3-D Secure, as <c>next_action.redirect_to_url.url</c> names it.</summary>
    public static string ChallengeUrl(HttpContext context, string intentId, string clientSecret)
    {
        ArgumentNullException.ThrowIfNull(context);
        var publicUrl = context.RequestServices.GetRequiredService<IOptions<SimulatorOptions>>().Value.PublicUrl?.GetLeftPart(UriPartial.Authority)
            ?? $"{context.Request.Scheme}://{context.Request.Host}";
        return $"{publicUrl}/v3/authenticate/{Uri.EscapeDataString(intentId)}?client_secret={Uri.EscapeDataString(clientSecret)}";
    }

    private static ContentHttpResult StripeJs(HttpContext context)
    {
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Text(StripeScript, "text/javascript; charset=utf-8");
    }

    /// <summary>The card field, framed by the page at <paramref name="origin"/>, the only window its messages go to or come from.</summary>
    private static ContentHttpResult CardFrame(HttpContext context, string? origin, string? key, OriginAllowList origins)
    {
        if (!origins.AllowsOrigin(origin) || key?.StartsWith("pk_", StringComparison.Ordinal) != true)
        {
            return Refuse(context, 400, "The card field needs an allowed origin and a publishable key.");
        }
        var config = new JsonObject
        {
            ["origin"] = origin,
            ["key"] = key,
            ["brands"] = new JsonArray([.. CardRules.Brands.Select(b => new JsonArray(b.Name, b.Prefix, new JsonArray([.. b.Lengths.Select(l => JsonValue.Create(l))]), b.CvcLength))]),
            ["errors"] = new JsonObject(CardRules.Errors.Select(e => KeyValuePair.Create(e.Code, (JsonNode?)JsonValue.Create(e.Message)))),
        };
        var body = $"""
            <form id="card" novalidate data-config="{Encode(config.ToJsonString())}">{CardFields("", "", null, brand: true)}</form>
            <script>{CardScript}</script>
            """;
        return Page(context, 200, "Card details", body,
            $"script-src {Hash(CardScript)}; connect-src 'self'; frame-ancestors {origin}; form-action 'none'");
    }

    /// <summary>Stripe's <c>POST /v1/payment_methods</c> (form-encoded, publishable key as Bearer): a card becomes a <c>pm_…</c>.</summary>
    private static async Task<IResult> CreatePaymentMethod(HttpContext context, GatewaySimulator simulator)
    {
        if (!context.Request.Headers.Authorization.ToString().StartsWith("Bearer pk_", StringComparison.Ordinal))
        {
            return StripeFailure(401, new StripeError("invalid_request_error", null, "A publishable key is required: Authorization: Bearer pk_…"));
        }
        if (await ReadFormAsync(context) is not { } form || form["type"] != "card")
        {
            return StripeFailure(400, new StripeError("invalid_request_error", "parameter_missing", "A form-encoded body with type=card is required.", "type"));
        }
        var (method, error) = simulator.PaymentMethods.Tokenize(new CardInput(
            form["card[number]"], form["card[exp_month]"], form["card[exp_year]"], form["card[cvc]"], form["billing_details[address][postal_code]"]));
        return method is not null
            ? TypedResults.Json(StripePaymentMethod.Of(method), StripeJson.Default.StripePaymentMethod)
            : StripeFailure(402, new StripeError("card_error", error!.Code, error.Message, error.Field));
    }

    private static ContentHttpResult HostedCard(HttpContext context, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "return_url")] string? returnUrl, OriginAllowList origins) =>
        origins.Allows(returnUrl)
            ? HostedCardPage(context, 200, returnUrl!, "", "", null)
            : Refuse(context, 400, "This page can only return you to an allowed address.");

    /// <summary>
    /// The hosted page's own form tokenizes and sends the shopper back with the <c>pm_…</c>; a
    /// post from the shop's page (no card fields yet) just opens the form.
    /// </summary>
    private static async Task<IResult> HostedCardSubmit(HttpContext context, GatewaySimulator simulator, OriginAllowList origins)
    {
        var form = await ReadFormAsync(context);
        var returnUrl = form?["return_url"].ToString();
        if (form is null || !origins.Allows(returnUrl))
        {
            return Refuse(context, 400, "This page can only return you to an allowed address.");
        }
        if (!form.ContainsKey("number"))
        {
            return HostedCardPage(context, 200, returnUrl!, "", "", null);
        }
        var (method, error) = simulator.PaymentMethods.Tokenize(CardInput.WithExpiry(form["number"], form["expiry"], form["cvc"], form["postal_code"]));
        if (method is null)
        {
            return HostedCardPage(context, 422, returnUrl!, form["expiry"].ToString(), form["postal_code"].ToString(), error);
        }
        return SeeOther(QueryHelpers.AddQueryString(returnUrl!, new Dictionary<string, string?>
        {
            ["payment_method"] = method.Id,
            ["brand"] = method.Brand,
            ["last4"] = method.Last4,
        }));
    }

    private static ContentHttpResult HostedCardPage(HttpContext context, int status, string returnUrl, string expiry, string postalCode, CardFieldError? error)
    {
        var body = $"""
            <main><h1>Pay by card</h1>
            <p>Your card details go to the payment provider only, never to the shop.</p>
            <form method="post" action="/v3/hosted/card" novalidate>
            <input type="hidden" name="return_url" value="{Encode(returnUrl)}">
            {CardFields(expiry, postalCode, error, brand: false)}
            <button type="submit">Use this card</button>
            </form></main>
            """;
        return Page(context, status, "Pay by card", body, $"form-action 'self' {OriginAllowList.OriginOf(returnUrl)}; frame-ancestors 'none'");
    }

    /// <summary>
    /// The 3-D Secure challenge: a form with two buttons and no script. Framed by Stripe.js's
    /// <c>handleNextAction</c> (<c>origin</c> given) it answers that window; otherwise it returns
    /// the shopper to the intent's <c>return_url</c>.
    /// </summary>
    private static ContentHttpResult Challenge(
        HttpContext context, string intentId, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "client_secret")] string? clientSecret,
        string? origin, GatewaySimulator simulator, OriginAllowList origins)
    {
        if (simulator.FindIntent(intentId, clientSecret ?? "") is not { } intent || (origin is not null && !origins.AllowsOrigin(origin)))
        {
            return Refuse(context, 404, "There is no payment to authenticate here.");
        }
        if (intent.Status != IntentStatus.RequiresAction)
        {
            // Answered already (or never challenged): a framed challenge reports the intent as it is.
            return origin is not null ? ChallengeDone(context, intent, origin) : Refuse(context, 409, "This payment needs no authentication.");
        }
        var amount = intent.Amount.ToString("0.00", CultureInfo.InvariantCulture) + " " + intent.Currency.ToUpperInvariant();
        var body = $"""
            <main><h1>Confirm your payment</h1>
            <p>Your bank asks you to confirm a payment of <strong>{Encode(amount)}</strong>.</p>
            <p>This is the payment gateway's test challenge: choose how it ends.</p>
            <form method="post" action="/v3/authenticate/{Encode(intentId)}">
            <input type="hidden" name="client_secret" value="{Encode(clientSecret!)}">
            {(origin is null ? "" : $"""<input type="hidden" name="origin" value="{Encode(origin)}">""")}
            <button type="submit" name="outcome" value="complete">Complete authentication</button>
            <button type="submit" name="outcome" value="fail" class="alt">Fail authentication</button>
            </form></main>
            """;
        var ancestors = origin ?? "'none'";
        return Page(context, 200, "Confirm your payment", body,
            $"form-action 'self' {OriginAllowList.OriginOf(intent.ReturnUrl)}; frame-ancestors {ancestors}");
    }

    private static async Task<IResult> AnswerChallenge(HttpContext context, string intentId, GatewaySimulator simulator, OriginAllowList origins)
    {
        var form = await ReadFormAsync(context);
        var origin = form?["origin"].ToString() is { Length: > 0 } given ? given : null;
        if (form is null || form["outcome"].ToString() is not ("complete" or "fail") || (origin is not null && !origins.AllowsOrigin(origin))
            || simulator.CompleteAuthentication(intentId, form["client_secret"].ToString(), form["outcome"] == "complete") is not { } intent)
        {
            return Refuse(context, 404, "There is no payment to authenticate here.");
        }
        if (origin is not null)
        {
            return ChallengeDone(context, intent, origin);
        }
        if (!origins.Allows(intent.ReturnUrl))
        {
            return Refuse(context, 409, "This payment has no allowed address to return to.");
        }
        return SeeOther(QueryHelpers.AddQueryString(intent.ReturnUrl!, new Dictionary<string, string?>
        {
            ["payment_intent"] = intent.IntentId,
            ["payment_intent_client_secret"] = form["client_secret"].ToString(),
            ["redirect_status"] = intent.Status == IntentStatus.Succeeded ? "succeeded" : "failed",
        }));
    }

    /// <summary>Tells the framing page how the challenge ended; the page closes the frame.</summary>
    private static ContentHttpResult ChallengeDone(HttpContext context, IntentRecord intent, string origin)
    {
        var json = JsonSerializer.Serialize(StripePaymentIntent.Of(intent), StripeJson.Default.StripePaymentIntent);
        var body = $"""
            <main data-origin="{Encode(origin)}" data-intent="{Encode(json)}"><p>Authentication finished.</p></main>
            <script>{ChallengeDoneScript}</script>
            """;
        return Page(context, 200, "Authentication finished", body, $"script-src {Hash(ChallengeDoneScript)}; frame-ancestors {origin}; form-action 'none'");
    }

    /// <summary>The card inputs, labelled, each with its error tied to it; the number and CVC are never echoed back.</summary>
    private static string CardFields(string expiry, string postalCode, CardFieldError? error, bool brand)
    {
        string Field(string name, string label, string autocomplete, string inputMode, int maxLength, string value, string placeholder = "")
        {
            var message = error?.Field == name ? error.Message : "";
            return $"""<div class="f"><label for="{name}">{label}</label><input id="{name}" name="{name}" autocomplete="{autocomplete}" inputmode="{inputMode}" maxlength="{maxLength}" spellcheck="false" value="{Encode(value)}"{(placeholder.Length > 0 ? $" placeholder=\"{placeholder}\"" : "")} aria-describedby="{name}-error" aria-invalid="{(message.Length > 0 ? "true" : "false")}"{(message.Length > 0 ? " autofocus" : "")}><span class="e" id="{name}-error" aria-live="polite">{Encode(message)}</span></div>""";
        }
        return Field("number", "Card number" + (brand ? """ <span id="brand"></span>""" : ""), "cc-number", "numeric", 23, "", "1234 1234 1234 1234")
            + """<div class="row">"""
            + Field("expiry", "Expiry (MM / YY)", "cc-exp", "numeric", 7, expiry, "MM / YY")
            + Field("cvc", "Security code", "cc-csc", "numeric", 4, "")
            + Field("postal_code", "Postal code", "postal-code", "text", 10, postalCode)
            + "</div>";
    }

    private static ContentHttpResult Page(HttpContext context, int status, string title, string body, string policy)
    {
        var headers = context.Response.Headers;
        // Pages carry client secrets in their URLs and take card data: never cached, never sent on as a referrer.
        headers.ContentSecurityPolicy = $"default-src 'none'; style-src {Hash(Css)}; base-uri 'none'; {policy}";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        return TypedResults.Content(
            $"""<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title><style>{Css}</style></head><body>{body}</body></html>""",
            "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static ContentHttpResult Refuse(HttpContext context, int status, string message) =>
        Page(context, status, "Payment gateway", $"<main><h1>Payment gateway</h1><p>{Encode(message)}</p></main>", "frame-ancestors 'none'; form-action 'none'");

    private static JsonHttpResult<StripeErrorBody> StripeFailure(int status, StripeError error) =>
        TypedResults.Json(new StripeErrorBody(error), StripeJson.Default.StripeErrorBody, statusCode: status);

    /// <summary>303: the browser follows with a GET, so a reload never posts the form again.</summary>
    private static SeeOtherResult SeeOther(string url) => new SeeOtherResult(url);

    private sealed class SeeOtherResult(string url) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = url;
            httpContext.Response.Headers.CacheControl = "no-store";
            return Task.CompletedTask;
        }
    }

    /// <summary>A small form body, or null when the request is not a form.</summary>
    private static async Task<IFormCollection?> ReadFormAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return null;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxFormBytes;
        }
        return await context.Request.ReadFormAsync(context.RequestAborted);
    }

    private static string Encode(string value) => WebUtility.HtmlEncode(value);

    private static string Hash(string inline) => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline)))}'";

    private static string Asset(string name)
    {
        using var stream = typeof(StripeBrowserApi).Assembly.GetManifestResourceStream("PaymentGateway.Simulator.Browser." + name)
            ?? throw new InvalidOperationException($"The simulator is built without its {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
