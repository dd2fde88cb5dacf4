namespace RecurrentCore.Models;

/// <summary>How <see cref="ArModel.FitLeastSquares"/> solves the (ridge-regularised) least-squares problem.</summary>
public enum LeastSquaresSolver
{
    /// <summary>Cholesky factorisation of the normal equations <c>(XᵀX + λD)β = Xᵀy</c> in double. Fast; squares the condition number.</summary>
    Cholesky,

    /// <summary>Householder QR of the augmented design <c>[X; √λ·D]</c>, then <c>Rβ = Qᵀ[y; 0]</c>. Slower; keeps the condition number of X.</summary>
    HouseholderQR,
}
