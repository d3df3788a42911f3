# syntax=docker/dockerfile:1
# checkout-service: built with the .NET 10 SDK, run on Ubuntu's chiseled ASP.NET image (no shell,
# no package manager, non-root user "app" 1654), its "extra" variant with ICU, which the email
# comparison's Unicode normalization needs. API on 8080, /metrics on 9090.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore from the project files alone, so the package layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig ./
COPY src/Checkout.Service/Checkout.Service.csproj src/Checkout.Service/
COPY src/PaymentGateway.Simulator/PaymentGateway.Simulator.csproj src/PaymentGateway.Simulator/
RUN dotnet restore src/Checkout.Service/Checkout.Service.csproj
COPY src/ src/
RUN dotnet publish src/Checkout.Service/Checkout.Service.csproj -c Release -o /app --no-restore -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra
WORKDIR /app
COPY --from=build /app ./
# Listen on every interface inside the container; the service's own defaults are loopback only.
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    METRICS_URL=http://0.0.0.0:9090
EXPOSE 8080 9090
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 1654
ENTRYPOINT ["dotnet", "Checkout.Service.dll"]
