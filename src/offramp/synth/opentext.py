"""Synthetic open-text answers from clinical, non-graphic templates, in the survey's language.

The sentences are about help, barriers and deterrence, as respondents to such surveys write about
them; none describes abuse, a person or a place, so synthetic data can be shared and shown in
reports and tests. A respondent writes one to three sentences; a language without its own list
borrows English.
"""

from __future__ import annotations

import random

SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "Anonymous help in my own language would make it easier to ask.",
        "The warning message made me stop and think about what I was doing.",
        "I am afraid of being reported if I talk to a doctor.",
        "Shorter waiting times for therapy would help.",
        "Blocking the material quickly would make a difference.",
        "I did not know that confidential programmes exist.",
        "Talking to someone without giving my name would help me stop.",
        "Stress and loneliness make it harder for me to stop.",
        "A self-help programme online helped me for a while.",
        "I want to stop but I do not know where to start.",
        "Knowing the legal consequences made me think again.",
        "Free counselling would help people in my situation.",
    ),
    "de": (
        "Anonyme Hilfe in meiner Sprache würde es leichter machen, danach zu fragen.",
        "Der Warnhinweis hat mich innehalten lassen.",
        "Ich habe Angst, angezeigt zu werden, wenn ich mit einer Ärztin spreche.",
        "Kürzere Wartezeiten für eine Therapie würden helfen.",
        "Ich wusste nicht, dass es vertrauliche Programme gibt.",
        "Stress und Einsamkeit machen es mir schwerer aufzuhören.",
    ),
    "fr": (
        "Une aide anonyme dans ma langue rendrait la demande plus facile.",
        "Le message d'avertissement m'a fait réfléchir.",
        "J'ai peur d'être signalé si j'en parle à un médecin.",
        "Des délais d'attente plus courts pour une thérapie aideraient.",
        "Je ne savais pas que des programmes confidentiels existaient.",
        "Le stress et la solitude rendent l'arrêt plus difficile.",
    ),
    "es": (
        "Una ayuda anónima en mi idioma haría más fácil pedirla.",
        "El mensaje de advertencia me hizo parar y pensar.",
        "Tengo miedo de que me denuncien si hablo con un médico.",
        "Listas de espera más cortas para la terapia ayudarían.",
        "No sabía que existían programas confidenciales.",
        "El estrés y la soledad me hacen más difícil parar.",
    ),
    "ru": (
        "Анонимная помощь на моём языке облегчила бы обращение.",
        "Предупреждение заставило меня остановиться и задуматься.",
        "Я боюсь, что обо мне сообщат, если я поговорю с врачом.",
        "Помогло бы более короткое ожидание терапии.",
        "Я не знал(а), что существуют конфиденциальные программы.",
        "Стресс и одиночество мешают мне остановиться.",
    ),
    "ar": (
        "المساعدة المجهولة الهوية بلغتي ستجعل طلبها أسهل.",
        "جعلتني رسالة التحذير أتوقف وأفكر.",
        "أخشى أن يتم الإبلاغ عني إذا تحدثت إلى طبيب.",
        "تقصير مدة انتظار العلاج سيساعد.",
        "لم أكن أعلم بوجود برامج سرية.",
        "التوتر والوحدة يجعلان التوقف أصعب بالنسبة لي.",
    ),
}


def open_answer(rng: random.Random, language: str, max_length: int) -> str:
    """One to three template sentences in `language` (English if we have none), within the limit."""
    pool = SENTENCES.get(language.split("-")[0], SENTENCES["en"])
    count = rng.choice((1, 1, 2, 3))
    text = " ".join(rng.sample(pool, min(count, len(pool))))
    return text[:max_length].rstrip()
