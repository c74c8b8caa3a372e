import { bucketWidth, histogramPercentile } from '../../domain/latency-histogram';

describe('the latency histogram', () => {
  it('when buckets are 1 ms below 1 s, 10 ms to 10 s and 1 s above, then each width is as documented', () => {
    expect([bucketWidth(0), bucketWidth(999), bucketWidth(1000), bucketWidth(9990), bucketWidth(10_000)]).toEqual([1, 1, 10, 10, 1000]);
  });

  it('when a percentile falls in a bucket, then it is that bucket\'s upper edge', () => {
    const buckets = [{ lower: 20, count: 50 }, { lower: 5, count: 40 }, { lower: 1200, count: 10 }];

    expect(histogramPercentile(buckets, 0.4)).toBe(6);
    expect(histogramPercentile(buckets, 0.5)).toBe(21);
    expect(histogramPercentile(buckets, 0.9)).toBe(21);
    expect(histogramPercentile(buckets, 0.95)).toBe(1210);
  });

  it('when the histogram is empty, then there is no percentile', () => {
    expect(histogramPercentile([], 0.5)).toBeNull();
    expect(histogramPercentile([{ lower: 3, count: 0 }], 0.5)).toBeNull();
  });
});
