using Xunit;

namespace RecurrentCore.Tests.Kernels;

/// <summary>A fact that is reported as skipped unless the environment variable <c>name</c> is <c>1</c> (xunit 2 has no dynamic skip).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EnvironmentFactAttribute : FactAttribute
{
    public EnvironmentFactAttribute(string name)
    {
        Name = name;
        if (Environment.GetEnvironmentVariable(name) != "1")
        {
            Skip = $"set {name}=1 to run";
        }
    }

    public string Name { get; }
}
