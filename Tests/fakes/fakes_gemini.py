"""Gemini answers of the fake providers for the scripted step kinds."""

from __future__ import annotations

from fakes_common import Reply, _fmt_seconds, _gemini_error, _retry_after


class GeminiKindsMixin:
    """Handler method for Gemini-flavored script kinds (mixed into fakes_server.Handler)."""

    def _gemini_kind(self, kind, model, entry, inp, step) -> Reply:
        ct = "application/json; charset=UTF-8"

        def err(code, status, msg, details=None):
            return Reply(code, _gemini_error(code, status, msg, details), content_type=ct)

        if kind == "rate_limited":
            ra = _fmt_seconds(_retry_after(step))
            return err(
                429, "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details. For more information "
                "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {
                                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                                "quotaDimensions": {"location": "global", "model": model},
                                "quotaValue": "15",
                            }
                        ],
                    },
                    {
                        "@type": "type.googleapis.com/google.rpc.Help",
                        "links": [
                            {
                                "description": "Learn more about Gemini API quotas",
                                "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                            }
                        ],
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{ra}s"},
                ],
            )
        if kind == "server_error":
            return err(
                500, "INTERNAL",
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting",
            )
        if kind in ("unavailable", "overloaded"):
            # a 503 that says when to come back (RetryInfo), only when the step asks (param retry_after)
            later = None
            if "retry_after" in step:
                later = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                          "retryDelay": f"{_fmt_seconds(_retry_after(step))}s"}]
            return err(503, "UNAVAILABLE", "The model is overloaded. Please try again later.", later)
        if kind == "auth":
            return err(
                401, "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED",
                  "domain": "googleapis.com"}],
            )
        if kind == "invalid_key":
            return err(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    }
                ],
            )
        if kind == "forbidden":
            return err(
                403, "PERMISSION_DENIED",
                "Generative Language API has not been used in project 000000000000 before or it is disabled.",
            )
        if kind == "suspended":
            key = entry["headers"].get("x-goog-api-key", "")
            return err(
                403, "PERMISSION_DENIED",
                f"Permission denied: Consumer 'api_key:{key}' has been suspended.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "CONSUMER_SUSPENDED",
                        "domain": "googleapis.com",
                        "metadata": {"consumer": f"projects/api_key:{key}",
                                     "service": "generativelanguage.googleapis.com"},
                    }
                ],
            )
        if kind == "bad_request":
            return err(
                400, "INVALID_ARGUMENT", 'Invalid JSON payload received. Unknown name "foo": Cannot find field.',
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"description": 'Invalid JSON payload received. Unknown name "foo"'}],
                    }
                ],
            )
        if kind == "not_found":
            return err(
                404, "NOT_FOUND",
                f"models/{model} is not found for API version v1beta, or is not supported for generateContent. "
                "Call ListModels to see the list of available models and their supported methods.",
            )
        if kind == "context_length":
            return err(
                400, "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            )
        usage = {"promptTokenCount": inp, "totalTokenCount": inp}
        if kind == "content_filter":
            return Reply(
                200,
                {
                    "promptFeedback": {
                        "blockReason": "SAFETY",
                        "safetyRatings": [
                            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
                            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
                        ],
                    },
                    "usageMetadata": usage,
                    "modelVersion": model,
                },
                content_type=ct,
            )
        if kind == "safety_stop":
            return Reply(
                200,
                {
                    "candidates": [
                        {
                            "finishReason": "SAFETY",
                            "index": 0,
                            "safetyRatings": [
                                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH",
                                 "blocked": True}
                            ],
                        }
                    ],
                    "usageMetadata": usage,
                    "modelVersion": model,
                },
                content_type=ct,
            )
        if kind == "empty":
            return Reply(
                200,
                {
                    "candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}],
                    "usageMetadata": usage,
                    "modelVersion": model,
                },
                content_type=ct,
            )
        if kind == "error_in_200":
            return Reply(200, _gemini_error(500, "INTERNAL", "upstream model crashed"), content_type=ct)
        raise AssertionError(f"unhandled kind {kind}")
