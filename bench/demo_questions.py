"""Questions about the demo company used by the benchmarks (all answerable by a member of HR, e.g. alice),
out-of-scope probes, and follow-up turns that only make sense after their first question."""

from __future__ import annotations

# (question, title of the document that answers it)
IN_SCOPE = [
    ("¿Cuántos días de vacaciones tengo al año?", "Política de vacaciones y permisos"),
    ("¿Con cuánta antelación debo pedir las vacaciones?", "Política de vacaciones y permisos"),
    ("¿Qué pasa con los días de vacaciones que no disfruto?", "Política de vacaciones y permisos"),
    ("¿Cuántos días de permiso tengo si me caso?", "Política de vacaciones y permisos"),
    ("¿Cuántos días puedo teletrabajar a la semana?", "Política de teletrabajo"),
    ("¿La empresa compensa los gastos del teletrabajo?", "Política de teletrabajo"),
    ("¿Puedo teletrabajar desde otro país?", "Política de teletrabajo"),
    ("¿Cuál es el importe máximo de las dietas en un viaje?", "Política de gastos y viajes"),
    ("¿En qué clase puedo viajar en avión?", "Política de gastos y viajes"),
    ("¿Qué gastos no se reembolsan?", "Política de gastos y viajes"),
    ("¿Cuántos presupuestos necesito para una compra?", "Procedimiento de compras y gestión de proveedores"),
    ("¿Cómo doy de alta a un proveedor nuevo?", "Procedimiento de compras y gestión de proveedores"),
    ("¿Cada cuánto tengo que cambiar la contraseña?", "Política de seguridad informática"),
    ("¿Qué hago si recibo un correo de phishing?", "Política de seguridad informática"),
    ("¿Puedo aceptar un regalo de un proveedor?", "Código de conducta"),
    ("¿Cómo funciona el canal ético?", "Código de conducta"),
    ("¿Cuánto tiempo se conservan los datos personales de la plantilla?", "Política de protección de datos personales"),
    (
        "¿Qué debo hacer en caso de accidente de trabajo?",
        "Prevención de riesgos laborales: salud y seguridad en el trabajo",
    ),
    ("How long is the probation period for new joiners?", "Onboarding guide for new joiners"),
    ("What should I do if my laptop is stolen?", "Equipment use and return policy"),
]

OUT_OF_SCOPE = [
    "¿Quién ganó el mundial de 1986?",
    "¿Cuál es la capital de Australia?",
    "¿Cómo se hace una paella valenciana?",
    "Who wrote War and Peace?",
    "What is the boiling point of water on Mount Everest?",
    "¿Qué tiempo hará mañana en Madrid?",
    "Recomiéndame una película de ciencia ficción",
    "How do I change a flat tyre on a bicycle?",
]

# (first question, follow-up, title of the document that answers the follow-up, a phrase of its section)
FOLLOW_UPS = [
    (
        "¿Cuántos días de vacaciones tengo al año?",
        "¿y si trabajo a media jornada?",
        "Política de vacaciones y permisos",
        "Jornada parcial",
    ),
    ("¿Cuántos días puedo teletrabajar a la semana?", "¿Y cómo lo solicito?", "Política de teletrabajo", "Solicitud"),
    (
        "¿Cuál es el importe máximo de las dietas en un viaje?",
        "¿y el alojamiento?",
        "Política de gastos y viajes",
        "Alojamiento",
    ),
    (
        "¿Cada cuánto tengo que cambiar la contraseña?",
        "¿Y la autenticación multifactor es obligatoria?",
        "Política de seguridad informática",
        "multifactor",
    ),
    ("¿Puedo aceptar un regalo de un proveedor?", "¿y si es una invitación a comer?", "Código de conducta", "Regalos"),
    (
        "How long is the probation period for new joiners?",
        "And who is my buddy?",
        "Onboarding guide for new joiners",
        "Buddy",
    ),
    (
        "What should I do if my laptop is stolen?",
        "and when I leave the company?",
        "Equipment use and return policy",
        "Returning",
    ),
    (
        "¿Cuántos presupuestos necesito para una compra?",
        "¿y a partir de qué importe?",
        "Procedimiento de compras y gestión de proveedores",
        "presupuestos",
    ),
    (
        "¿Cuántos días de permiso tengo si me caso?",
        "¿y por el nacimiento de un hijo?",
        "Política de vacaciones y permisos",
        "Permisos retribuidos",
    ),
    (
        "¿Qué hago si recibo un correo de phishing?",
        "¿A quién se lo notifico?",
        "Política de seguridad informática",
        "Notificación",
    ),
]
