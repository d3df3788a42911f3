using System.IO.Hashing;
using System.Text;
using Microsoft.FeatureManagement;

namespace CheckoutService.Flags;

/// <summary>Who is asking: the first-party visitor id (a cookie), the bucket it hashes to for a flag, and the region the request comes from.</summary>
public sealed record Visitor(string Id, int Bucket, string Region)
{
    /// <summary>The visitor's bucket for a flag, 0–99: a hash of id and flag, so it never changes for one visitor and differs between flags.</summary>
    public static int BucketOf(string visitorId, string flag) =>
        (int)(XxHash32.HashToUInt32(Encoding.UTF8.GetBytes($"{flag}:{visitorId}")) % 100);
}

/// <summary>
/// The flag's targeting as a Microsoft.FeatureManagement filter: the visitor's region is one the
/// flag serves, and its bucket is below the rollout percentage. A ramp from 5 to 25 % keeps the
/// first 5 % in, so no visitor flips between arms while the rollout only grows.
/// </summary>
[FilterAlias(Alias)]
internal sealed class VisitorTargetingFilter : IContextualFeatureFilter<Visitor>
{
    public const string Alias = "VisitorTargeting";

    public Task<bool> EvaluateAsync(FeatureFilterEvaluationContext context, Visitor appContext)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(appContext);
        var percent = context.Parameters.GetValue<int>("Percent");
        var regions = FlagState.ParseRegions(context.Parameters.GetValue<string>("Regions") ?? "");
        return Task.FromResult(FlagState.Serves(regions, appContext.Region) && appContext.Bucket < percent);
    }
}

/// <summary>The flag's definition for the feature manager, from the state the replica holds now: killed means no filter can enable it.</summary>
internal sealed class FlagDefinitions(GuestCheckoutFlag flag) : IFeatureDefinitionProvider
{
    public Task<FeatureDefinition> GetFeatureDefinitionAsync(string featureName) => Task.FromResult(Define(featureName));

    public async IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync()
    {
        await Task.CompletedTask;
        yield return Define(FlagState.GuestCheckoutV2);
    }

    private FeatureDefinition Define(string featureName)
    {
        var state = featureName == FlagState.GuestCheckoutV2 ? flag.Current : null;
        return new FeatureDefinition
        {
            Name = featureName,
            EnabledFor = state is { Enabled: true } && !flag.Unreachable
                ? [new FeatureFilterConfiguration
                {
                    Name = VisitorTargetingFilter.Alias,
                    Parameters = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
                    {
                        ["Percent"] = state.Percent.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["Regions"] = string.Join(',', state.Regions),
                    }).Build(),
                }]
                : [],
        };
    }
}
