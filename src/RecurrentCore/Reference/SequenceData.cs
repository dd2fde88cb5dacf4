namespace RecurrentCore.Reference;

/// <summary>
/// The inputs of one sequence forward in double precision, laid out as the configuration says:
/// input (T, B, I), or (B, T, I) when batch-first; h0 (L·D, B, H), or (L·D, B, P) with an LSTM projection, and c0
/// (L·D, B, H), zeros when null; lengths (B),
/// each in 1..T, any order, null meaning every sequence has length T (pack_padded_sequence semantics).
/// </summary>
public sealed record SequenceInputs(int SeqLen, int Batch, double[] Input, double[]? H0 = null, double[]? C0 = null, int[]? Lengths = null);

/// <summary>
/// The results of a forward: output (T, B, D·H) or (B, T, D·H) batch-first, zero past each sequence's length;
/// h_n and c_n (L·D, B, H) taken at each sequence's own last step (c_n is null unless LSTM).
/// </summary>
public sealed record SequenceOutputs(double[] Output, double[] HN, double[]? CN);

/// <summary>
/// The upstream gradients defining the loss L = Σ output⊙dOutput + Σ h_n⊙dHN + Σ c_n⊙dCN; dHN and dCN may be null (zero).
/// </summary>
public sealed record UpstreamGradients(double[] Output, double[]? HN = null, double[]? CN = null);

/// <summary>
/// dL/d(everything): every parameter (same layout and names as the weights), the input (same layout as the input),
/// h0 and c0 (L·D, B, H; c0 null unless LSTM). Given also when no initial state was passed: then it is the
/// gradient at the zero initial state.
/// </summary>
public sealed record SequenceGradients(RecurrentParameters Parameters, double[] Input, double[] H0, double[]? C0);
