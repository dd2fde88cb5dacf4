using System.Text.Json;
using RecurrentCore;
using RecurrentCore.Kernels;
using RecurrentCore.Samples.Serving;
using RecurrentCore.Serving;

// A recurrent model behind HTTP and WebSocket, one StreamPool session per client session (docs/serving.md).
var processStart = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();
ServingSettings settings;
RecurrentCore.Layers.RecurrentLayer layer;
try
{
    settings = ServingSettings.From(new ConfigurationBuilder().AddCommandLine(args).Build());
    layer = settings.BuildLayer();
}
catch (Exception e) when (e is ArgumentException or RecurrentCore.RecurrentCoreException or IOException)
{
    Console.Error.WriteLine($"recurrent-serving: error: {e.Message}");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(args);
double modelMs = (DateTime.UtcNow - processStart).TotalMilliseconds;
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1 << 20);
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    // Loopback unless told otherwise.
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
}

builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ServingJson.Relaxed));

using var pool = new StreamPool(layer, new StreamPoolOptions
{
    MaxSessions = settings.MaxSessions,
    MaxBatch = settings.MaxBatch,
    Workers = settings.Workers,
    GatherWindow = settings.Window,
});
using var registry = new SessionRegistry(pool, settings.IdleTimeout);
int inputSize = pool.InputSize, hiddenSize = pool.HiddenSize;

var app = builder.Build();
app.UseWebSockets();

static IResult Error(int status, string message) => Results.Json(new ErrorBody(message), ServingJson.Relaxed.ErrorBody, statusCode: status);

app.MapGet("/", () => new ModelInfo(
    layer.Config.Cell.Name(), inputSize, hiddenSize, layer.Config.NumLayers, KernelCatalog.Name(layer.Variant), pool.MaxSessions,
    pool.OpenSessions, settings.MaxBatch, settings.Window.TotalMilliseconds, settings.IdleTimeout.TotalSeconds));

app.MapGet("/stats", () =>
{
    var s = pool.Statistics;
    return new Stats(s.Steps, s.Batches, s.OpenSessions, registry.Evicted, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalAllocatedBytes(precise: true));
});

app.MapPost("/sessions", () => registry.Open() is { } entry
    ? Results.Json(new SessionCreated(entry.Id, inputSize, hiddenSize), ServingJson.Relaxed.SessionCreated, statusCode: 201)
    : Error(503, $"session limit reached: {pool.MaxSessions} sessions are open"));

app.MapDelete("/sessions/{id}", (string id) => registry.Close(id) ? Results.NoContent() : Error(404, $"unknown session '{id}'"));

app.MapPost("/sessions/{id}/reset", (string id) =>
{
    if (registry.Find(id) is not { } entry)
    {
        return Error(404, $"unknown session '{id}'");
    }

    try
    {
        entry.Session.Reset();
        return Results.NoContent();
    }
    catch (ObjectDisposedException)
    {
        return Error(404, $"unknown session '{id}'");
    }
    catch (InvalidOperationException e)
    {
        return Error(409, e.Message);
    }
});

app.MapPost("/sessions/{id}/step", async (string id, HttpRequest request) =>
{
    if (registry.Find(id) is not { } entry)
    {
        return Error(404, $"unknown session '{id}'");
    }

    StepRequest? body;
    try
    {
        body = await JsonSerializer.DeserializeAsync(request.Body, ServingJson.Relaxed.StepRequest, request.HttpContext.RequestAborted);
    }
    catch (JsonException e)
    {
        return Error(400, $"body: expected {{\"x\": [{inputSize} numbers]}}: {e.Message}");
    }

    if (body?.X is not { } x)
    {
        return Error(400, $"body: expected {{\"x\": [{inputSize} numbers]}}");
    }

    var y = new float[hiddenSize];
    try
    {
        await entry.Session.StepAsync(x, y, request.HttpContext.RequestAborted);
        return Results.Json(new StepResponse(y), ServingJson.Relaxed.StepResponse);
    }
    catch (ArgumentException e)
    {
        return Error(400, Errors.OneLine(e));
    }
    catch (ObjectDisposedException)
    {
        return Error(404, $"unknown session '{id}'");
    }
    catch (InvalidOperationException e)
    {
        return Error(409, e.Message);
    }
});

// A WebSocket on an existing session (the session outlives the connection) ...
app.Map("/sessions/{id}/ws", async (string id, HttpContext context) =>
{
    if (registry.Find(id) is not { } entry)
    {
        context.Response.StatusCode = 404;
        await context.Response.WriteAsJsonAsync(new ErrorBody($"unknown session '{id}'"), ServingJson.Relaxed.ErrorBody);
        return;
    }

    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = 400;
        await context.Response.WriteAsJsonAsync(new ErrorBody("expected a WebSocket upgrade"), ServingJson.Relaxed.ErrorBody);
        return;
    }

    using var ws = await context.WebSockets.AcceptWebSocketAsync();
    await SocketLoop.Run(ws, entry, inputSize, hiddenSize, context.RequestAborted);
});

// ... or a session that lives exactly as long as its WebSocket.
app.Map("/ws", (RequestDelegate)(async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = 400;
        await context.Response.WriteAsJsonAsync(new ErrorBody("expected a WebSocket upgrade"), ServingJson.Relaxed.ErrorBody);
        return;
    }

    if (registry.Open() is not { } entry)
    {
        context.Response.StatusCode = 503;
        await context.Response.WriteAsJsonAsync(new ErrorBody($"session limit reached: {pool.MaxSessions} sessions are open"), ServingJson.Relaxed.ErrorBody);
        return;
    }

    try
    {
        using var ws = await context.WebSockets.AcceptWebSocketAsync();
        await SocketLoop.Run(ws, entry, inputSize, hiddenSize, context.RequestAborted);
    }
    finally
    {
        registry.Close(entry.Id);
    }
}));

await app.StartAsync();
Console.WriteLine($"recurrent-serving: {layer.Config.Cell.Name()} I={inputSize} H={hiddenSize} kernel={KernelCatalog.Name(layer.Variant)} sessions≤{pool.MaxSessions} batch≤{settings.MaxBatch} window={settings.Window.TotalMilliseconds} ms on {string.Join(' ', app.Urls)}; model ready {modelMs:0} ms, listening {(DateTime.UtcNow - processStart).TotalMilliseconds:0} ms after process start");
await app.WaitForShutdownAsync();
return 0;
