/**
 * Implementation helpers shared by securetag's modules; not API, may change in any release.
 */
package dev.securetag.core.internal;
