using System.Runtime.CompilerServices;
using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Sequence;

/// <summary>
/// One stream of a cell whose gates take their sums from registers (<see cref="ICell.GatesFromProduct"/>) at a hidden
/// size of whole registers of <typeparamref name="TS"/>: each layer's step is one pass over its gate panels
/// (<see cref="LayerWeights.GatePanels"/>, the biases as the sums' starting values) with the gates applied while the
/// sums are in registers, and nothing else per step: the panels, state and sizes are fixed at creation, so the loop
/// looks nothing up, and with H one register (H = 16 at 512 bits) it copies nothing but the top layer's h into y.
/// </summary>
internal sealed unsafe class PanelStreamStepper<TCell, TS, TV> : StreamStepper
    where TCell : ICell
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    private readonly LayerWeights[] _weights;
    private readonly nint[] _panels;
    private readonly int _inputSize, _hidden;
    private readonly float* _h, _c, _z;
    private bool _descending;

    public PanelStreamStepper(SequenceModel model)
        : base(model, 1)
    {
        var cfg = model.Config;
        _weights = new LayerWeights[cfg.NumLayers];
        _panels = new nint[cfg.NumLayers];
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            _weights[l] = model.Weights(l, 0);

            // Pinned, 64-byte aligned, kept alive and in step with the weights (Refresh) by the layer's weights.
            _panels[l] = (nint)_weights[l].GatePanels(TS.Count);
        }

        _inputSize = cfg.InputSize;
        _hidden = cfg.HiddenSize;
        _h = (float*)Unsafe.AsPointer(ref H[0]);
        _c = C.Length == 0 ? null : (float*)Unsafe.AsPointer(ref C[0]);
        _z = (float*)Unsafe.AsPointer(ref Z[0]);
    }

    /// <summary>Whether this stepper runs <typeparamref name="TCell"/> at <paramref name="hidden"/> units.</summary>
    public static bool Fits(int hidden) => TCell.GatesFromProduct && ColumnGatesKernel<TS, TV>.Fits(hidden);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<float> x, int steps, Span<float> y)
    {
        int h = _hidden, inputSize = _inputSize;
        var weights = _weights;
        var panels = _panels;
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var step = default(RowStep);
            for (int s = 0; s < steps; s++)
            {
                float* input = px + ((nint)s * inputSize);
                for (int l = 0; l < weights.Length; l++)
                {
                    float* hl = _h + ((nint)l * h);
                    step.H = hl;
                    if (TCell.HasCellState)
                    {
                        step.CPrev = _c + ((nint)l * h);
                        step.C = step.CPrev;
                    }

                    // h is written register by register while later registers still need h_prev: read a copy, unless
                    // H is one register, whose product has read all of h_prev before its gates write h (the copy's
                    // store-to-load round trip would sit on the step-to-step latency chain).
                    float* hPrev = hl;
                    if (h != TS.Count)
                    {
                        RowCopy<TS, TV>.Copy(hl, _z, h);
                        hPrev = _z;
                    }

                    TCell.ForwardFromProduct<TS, TV>(weights[l], (float*)panels[l], input, hPrev, _descending, in step);
                    input = hl;
                }

                RowCopy<TS, TV>.Copy(input, py + ((nint)s * h), h);

                // The panels' registers are independent: alternate their order so the next step starts on those still
                // in cache (H = 256: half of 2 MiB stays in a 1 MiB L2). Same bits either way.
                _descending = !_descending;
            }
        }
    }
}
