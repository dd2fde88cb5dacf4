namespace RecurrentCore.Threading;

/// <summary>A piece of work split into parts that may run on different threads; each part must touch disjoint memory.</summary>
internal interface IParallelWork
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    void Execute(int part, int parts);
}
