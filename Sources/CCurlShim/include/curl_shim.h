#ifndef RECLAW_CURL_SHIM_H
#define RECLAW_CURL_SHIM_H

#include <curl/curl.h>

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic; Swift cannot call
   them directly. These typed wrappers pass each kind of argument through unchanged. */

CURLcode reclaw_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode reclaw_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode reclaw_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode reclaw_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode reclaw_curl_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode reclaw_curl_easy_setopt_write_function(CURL *handle, CURLoption option, curl_write_callback value);

CURLcode reclaw_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode reclaw_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);
CURLcode reclaw_curl_easy_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value);

CURLMcode reclaw_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

#endif
