using RecurrentCore.Samples.LoadTest;

try
{
    var a = new Args(args);
    return a.Mode switch
    {
        "inproc" => InProc.Run(a),
        "raw" => Raw.Run(a),
        "service" => await Service.Load(a),
        "check" => await Service.Check(a),
        "startup" => await Service.Startup(a),
        _ => throw new ArgumentException($"unknown mode '{a.Mode}' (inproc, service, check or startup)"),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"recurrent-loadtest: error: {e.Message}");
    return 2;
}
