// The part of jstat (a CommonJS package without type declarations) that monitoring uses: the chi-square distribution.
declare module 'jstat' {
  const jstat: {
    jStat: {
      chisquare: { cdf(x: number, degreesOfFreedom: number): number };
    };
  };
  export default jstat;
}
