/*-------------------------------------------------------------------------
 *
 * special.h
 *	  Special functions used by the BTYD models: digamma, log-beta,
 *	  log-sum-exp, the Gaussian hypergeometric function 2F1 and long sums
 *	  of Gamma-function ratios.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLCM_SPECIAL_H
#define CLCM_SPECIAL_H

/* psi(x) = d/dx log Gamma(x), for x > 0 */
extern double clcm_digamma(double x);

/* log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), a, b > 0 */
extern double clcm_lbeta(double a, double b);

/* log(exp(u) + exp(v)) without overflow */
extern double clcm_logaddexp(double u, double v);

/*
 * log |2F1(a, b; c; z)| for real a, b, c and z < 1; *sign receives the sign
 * of the value (+1, -1, or 0 when the value is exactly zero, in which case
 * the result is -infinity).  Raises an error if the value cannot be
 * computed (c a non-positive integer, z >= 1, or no convergence).
 */
extern double clcm_hyp2f1_log(double a, double b, double c, double z,
							  int *sign);

/* 2F1(a, b; c; z) as a plain double (may overflow to infinity) */
extern double clcm_hyp2f1(double a, double b, double c, double z);

/*
 * sum_{i=k}^{m} prod_j Gamma(i+a_j)/Gamma(i+b_j), divided by the term at
 * i = k, by Euler-Maclaurin summation: for the smooth far part of a long
 * hypergeometric-type sum (see special.c for the conditions on k).
 */
extern double clcm_gamma_ratio_sum(const double *a, const double *b,
								   int npairs, double k, double m);

#endif							/* CLCM_SPECIAL_H */
