/**
 * The corpus stage of securetag on Apache Spark: {@link dev.securetag.spark.SparkPipeline} extracts PDFs with
 * {@code PdfCorpus}, chunks them and generates question/answer pairs on the executors, and writes the same
 * train/validation JSONL as {@code DatasetPipeline} on the driver.
 */
package dev.securetag.spark;
