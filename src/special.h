/*-------------------------------------------------------------------------
 *
 * special.h
 *	  Special functions used by the BTYD models: digamma, log-beta,
 *	  log-sum-exp and the Gaussian hypergeometric function 2F1.
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

#endif							/* CLCM_SPECIAL_H */
